/** ANSI styling only for a terminal that wants it (no NO_COLOR, a TTY, not TERM=dumb). */
const enabled = (stream: NodeJS.WriteStream) =>
  !process.env.NO_COLOR && stream.isTTY === true && process.env.TERM !== 'dumb';

const wrap =
  (open: number, close: number) =>
  (text: string, stream: NodeJS.WriteStream = process.stdout) =>
    enabled(stream) ? `\u001b[${open}m${text}\u001b[${close}m` : text;

export const bold = wrap(1, 22);
export const dim = wrap(2, 22);
export const red = wrap(31, 39);
export const green = wrap(32, 39);
export const yellow = wrap(33, 39);
export const cyan = wrap(36, 39);

/** One line on stdout (results) or stderr (notices, progress, errors). */
export const out = (line = '') => process.stdout.write(`${line}\n`);
export const note = (line = '') => process.stderr.write(`${line}\n`);
