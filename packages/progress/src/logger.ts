/** Stage-prefixed logging to stderr, so stdout stays free for data a command may print. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(stage: string, sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const line = (level: string, msg: string) => sink(`[${stage}] ${level}${msg}`);
  return {
    info: (m) => line('', m),
    warn: (m) => line('warning: ', m),
    error: (m) => line('error: ', m),
  };
}
