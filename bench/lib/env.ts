// Imported first by every benchmark entry point: product modules read these at import time
// (the Powertools logger reads its level when it is constructed).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// This machine runs Node 20; the SDK warns once per process that it will need Node 22 (the
// Lambda runtime is Node 24). The warning says nothing about the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
