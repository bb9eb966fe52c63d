/**
 * The CLIs support Node.js 20, on which every AWS SDK client prints an 8-line
 * NodeVersionSupportWarning (SDK releases after January 2027 need Node.js 22; this project
 * pins its SDK through the lock file). The SDK's documented switch turns it off: "If you cannot
 * upgrade, you can suppress it by setting the following environment variable:
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true"
 * (https://github.com/aws/aws-sdk-js-v3/issues/7983). The SDK reads it when a client is
 * built; a value the user set wins.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
