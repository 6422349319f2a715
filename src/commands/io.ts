// What a command may touch of the outside world, handed in so tests can run commands in-process.
export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Reads all of stdin (for `render --body -`). */
  readonly readStdin: () => Promise<Buffer>;
}
