// D5: failure messages and stack traces travel as an encoded payload (so the payload codec encrypts
// them) instead of plain text. Plain JavaScript because the SDK loads it by path: with require() in
// the worker's and client's main thread, and through webpack in the workflow bundle.
import * as common from '@temporalio/common';

// Node and webpack hand this CommonJS package over as the default export, tsx as named exports.
const { DefaultFailureConverter } = common.default ?? common;

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
