/** An RFC 9457 problem document as the API sends it (the fields the CLI reads). */
export interface ProblemBody {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/** The API answered with an error status: `detail` is the sentence to show the user. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemBody;

  constructor(status: number, problem: ProblemBody) {
    super(problem.detail ?? problem.title ?? `The server answered HTTP ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** The server could not be reached at all (not running, wrong URL, network down). */
export class ConnectionError extends Error {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(`Cannot reach the MiniRAG server at ${url}.`, { cause });
    this.name = 'ConnectionError';
    this.url = url;
  }
}

/** A problem on the user's side that the CLI detected itself (bad flag, missing file, no token). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads an error response into an ApiError, whatever its content type. */
export async function apiErrorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let problem: ProblemBody = { status: response.status };
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') problem = parsed as ProblemBody;
  } catch {
    const snippet = text.trim().slice(0, 200);
    problem = { status: response.status, detail: snippet || `The server answered HTTP ${response.status}.` };
  }
  return new ApiError(response.status, problem);
}
