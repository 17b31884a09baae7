/**
 * Must be the first import of the bundled entry point. aws-crt looks for its native addon relative to
 * the folder layout of node_modules, which a single-file bundle does not have; the build ships the
 * addon beside the bundle under a per-platform name, and this points aws-crt at it.
 */
process.env.AWS_CRT_NODEJS_BINARY_RELATIVE_PATH ??= `aws-crt-nodejs-${process.platform}-${process.arch}.node`;
