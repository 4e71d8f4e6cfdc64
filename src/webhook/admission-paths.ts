// HTTP routes of the webhook server (shared by the server and the webhook configuration builder).

export const VALIDATE_PATH = '/validate-image-cache';
export const MUTATE_PATH = '/mutate-image-cache';
export const HEALTHZ_PATH = '/healthz';
export const READYZ_PATH = '/readyz';
export const METRICS_PATH = '/metrics';
