// AdmissionReview envelopes (admission.k8s.io v1 and v1beta1): decode a request body, encode the answer
// in the version the API server asked in, copying request.uid. Pure.

export const ADMISSION_GROUP = 'admission.k8s.io';
export const SUPPORTED_ADMISSION_VERSIONS = ['v1', 'v1beta1'] as const;
export type AdmissionApiVersion = `${typeof ADMISSION_GROUP}/${(typeof SUPPORTED_ADMISSION_VERSIONS)[number]}`;

export interface AdmissionRequestFields {
  uid: string;
  operation: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface DecodedAdmissionReview {
  apiVersion: AdmissionApiVersion;
  request: AdmissionRequestFields;
}

/** A request the server cannot answer with an AdmissionReview: HTTP status and a plain-text reason. */
export interface AdmissionDecodeError {
  httpStatus: number;
  message: string;
}

export type AdmissionDecodeResult = { ok: true; review: DecodedAdmissionReview } | { ok: false; error: AdmissionDecodeError };

export interface AdmissionReviewResponse {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { message: string; code?: number };
    warnings?: string[];
  };
}

function badRequest(message: string): AdmissionDecodeResult {
  return { ok: false, error: { httpStatus: 400, message } };
}

/** Decodes the raw body of POST /validate-image-cache. */
export function decodeAdmissionReview(body: string): AdmissionDecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return badRequest(`request body is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return badRequest('request body is not a JSON object; send an admission.k8s.io AdmissionReview');
  }
  const review = parsed as Record<string, unknown>;
  const apiVersion = review.apiVersion;
  const supported = SUPPORTED_ADMISSION_VERSIONS.map((v) => `${ADMISSION_GROUP}/${v}`);
  if (review.kind !== 'AdmissionReview' || typeof apiVersion !== 'string' || !supported.includes(apiVersion)) {
    return badRequest(
      `unsupported kind ${JSON.stringify(review.apiVersion)}/${JSON.stringify(review.kind)}; expected AdmissionReview in ${supported.join(' or ')}`,
    );
  }
  const request = review.request;
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return badRequest('AdmissionReview has no request');
  }
  const fields = request as Record<string, unknown>;
  if (typeof fields.uid !== 'string' || fields.uid.length === 0) return badRequest('AdmissionReview request has no uid');
  if (typeof fields.operation !== 'string') return badRequest('AdmissionReview request has no operation');
  return {
    ok: true,
    review: { apiVersion: apiVersion as AdmissionApiVersion, request: fields as unknown as AdmissionRequestFields },
  };
}

/** The answer, in the same admission version as the request, with its uid. */
export function encodeAdmissionResponse(
  apiVersion: AdmissionApiVersion,
  uid: string,
  verdict: { allowed: true } | { allowed: false; message: string },
): AdmissionReviewResponse {
  const response: AdmissionReviewResponse['response'] = { uid, allowed: verdict.allowed };
  if (!verdict.allowed) response.status = { message: verdict.message };
  return { apiVersion, kind: 'AdmissionReview', response };
}
