// Types of hack/bundle.mjs's exports (the controller's memory settings; importing it does not build).
export declare const CONTROLLER_NODE_FLAGS: string[];
export declare const CONTROLLER_NODE_ARGS: string[];
export declare const CONTROLLER_ENV: Record<string, string>;
export declare function launcherScript(): string;
