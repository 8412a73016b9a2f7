import pino from 'pino'

/** The logging Whisperer needs; a pino logger fits, and so does any object with these methods. */
export interface Logger {
  debug(object: object, message?: string): void
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

/** A pino logger writing JSON lines to stdout at `level`. */
export function defaultLogger(level: string): Logger {
  return pino({ name: 'whisperer', level })
}
