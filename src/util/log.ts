// A tiny structured logger for the daemons: one JSON object per line (info to stdout, warnings and
// errors to stderr), so a log shipper or `jq` can read them.
export type LogLevel = "info" | "warn" | "error";

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LogRecord extends LogFields {
  ts: string;
  level: LogLevel;
  component: string;
  msg: string;
}

export type LogSink = (level: LogLevel, line: string) => void;

const processSink: LogSink = (level, line) => {
  (level === "info" ? process.stdout : process.stderr).write(`${line}\n`);
};

/** Values JSON cannot carry as is (errors, bigints) become strings; a field never breaks a line. */
const jsonSafe = (_key: string, v: unknown): unknown => {
  if (v instanceof Error) return v.message;
  if (typeof v === "bigint") return v.toString();
  return v;
};

export const createLogger = (
  component: string,
  sink: LogSink = processSink,
  now: () => Date = () => new Date(),
): Logger => {
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    const record: LogRecord = { ts: now().toISOString(), level, component, msg };
    // The fixed keys come first and are never overwritten by a field of the same name.
    for (const [k, v] of Object.entries(fields)) if (!(k in record)) record[k] = v;
    let line: string;
    try {
      line = JSON.stringify(record, jsonSafe);
    } catch {
      line = JSON.stringify({ ts: record.ts, level, component, msg, fields: "(not serialisable)" });
    }
    sink(level, line);
  };
  return {
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
};

/** A logger that keeps its records, for tests. */
export const memoryLogger = (component = "test"): Logger & { records: LogRecord[] } => {
  const records: LogRecord[] = [];
  const logger = createLogger(component, (_level, line) => records.push(JSON.parse(line) as LogRecord));
  return Object.assign(logger, { records });
};
