// Types of hack/bundle.mjs's exports (the controller's memory settings; importing it does not build).
export declare const CONTROLLER_NODE_FLAGS: string[];
export declare const CONTROLLER_NODE_ARGS: string[];
export declare const CONTROLLER_ENV: Record<string, string>;
export declare function launcherScript(): string;
export declare const SDK_CLIENT_NODE_EXPORTS: string[];
export declare const sdkClientNodePlugin: import('esbuild').Plugin;
export declare function bundleOptions(outdir: string): import('esbuild').BuildOptions;
export declare const nodeFetchUrlPlugin: import('esbuild').Plugin;
