// The read flow's steps (registered by suite.mjs after the compose flow's).
export function readSteps() {}
