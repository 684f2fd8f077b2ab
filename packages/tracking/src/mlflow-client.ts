// A small MLflow REST API 2.0 client over fetch (the npm `mlflow` package is unmaintained).
// Endpoints and limits checked against the MLflow 3.1 server source (mlflow/server/handlers.py,
// mlflow/utils/validation.py); tools/mlflow pins that server for the tests.
import { splitLogBatch, type LogBatchPayload } from './batching';

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  tags?: MlflowTag[];
}
export interface MlflowTag {
  key: string;
  value: string;
}
export interface MlflowParam {
  key: string;
  value: string;
}
/** value may be NaN / ±Infinity: sent and received as the strings protobuf JSON uses for them. */
export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: MlflowRunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage?: string;
}
export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics: MlflowMetric[]; params: MlflowParam[]; tags: MlflowTag[] };
}
export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** An error answered by the server (error_code + message) or a transport failure (status 0). */
export class MlflowError extends Error {
  constructor(
    message: string,
    readonly errorCode: string,
    /** HTTP status; 0 when no answer came (connection refused, timeout, DNS). */
    readonly status: number,
    readonly endpoint: string,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
  /** Worth trying again later: no answer, a server-side failure, or throttling. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

export interface MlflowClientOptions {
  /** Per-request timeout; a hung server must not hang a training run. */
  timeoutMs?: number;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function encodeMetricValue(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

function decodeMetric(raw: {
  key: string;
  value: number | string;
  timestamp?: number | string;
  step?: number | string;
}): MlflowMetric {
  const value = typeof raw.value === 'string' ? (NON_FINITE[raw.value] ?? Number(raw.value)) : raw.value;
  return { key: raw.key, value, timestamp: Number(raw.timestamp ?? 0), step: Number(raw.step ?? 0) };
}

function decodeRun(raw: any): MlflowRun {
  const data = raw.data ?? {};
  return {
    info: raw.info,
    data: { metrics: (data.metrics ?? []).map(decodeMetric), params: data.params ?? [], tags: data.tags ?? [] },
  };
}

/**
 * The path of a run's artifact root below the server's artifact proxy, from the run's artifact_uri.
 * The server (handlers._get_proxied_run_artifact_destination_path) takes `mlflow-artifacts:/<p>` and
 * `mlflow-artifacts://host:port/<p>` as `<p>`, and an http(s) URL as what follows
 * `/api/2.0/mlflow-artifacts/artifacts/`. E.g. `mlflow-artifacts:/3/<run_id>/artifacts` → `3/<run_id>/artifacts`.
 */
export function proxiedArtifactRoot(artifactUri: string): string {
  const anchor = '/api/2.0/mlflow-artifacts/artifacts/';
  const url = URL.canParse(artifactUri) ? new URL(artifactUri) : null; // a bare path is not a URL
  if (url?.protocol === 'mlflow-artifacts:')
    return decodeURIComponent(url.pathname).replace(/^\/+/, '').replace(/\/+$/, '');
  if (url && (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname.includes(anchor)) {
    return decodeURIComponent(url.pathname.split(anchor)[1]).replace(/^\/+/, '').replace(/\/+$/, '');
  }
  throw new MlflowError(
    `run artifact_uri '${artifactUri}' is not served through the MLflow artifact proxy; expected 'mlflow-artifacts:/...' ` +
      `(start the server with --artifacts-destination / --serve-artifacts, as tools/mlflow/start.sh does)`,
    'UNSUPPORTED_ARTIFACT_URI',
    0,
    'mlflow-artifacts',
  );
}

function encodePath(path: string): string {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map(encodeURIComponent)
    .join('/');
}

export class MlflowClient {
  readonly uri: string;
  private readonly timeoutMs: number;

  constructor(trackingUri: string, opts: MlflowClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(trackingUri);
    } catch {
      throw new Error(`MLflow tracking URI '${trackingUri}' is not a URL; expected http(s)://host:port`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(
        `MLflow tracking URI '${trackingUri}' has scheme '${parsed.protocol}'; expected http: or https: (a tracking server)`,
      );
    }
    this.uri = trackingUri.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  // ---- transport ----

  private async request(
    method: string,
    endpoint: string,
    init: {
      query?: Record<string, string | number | undefined>;
      json?: unknown;
      body?: Uint8Array;
      raw?: boolean;
    } = {},
  ): Promise<any> {
    const url = new URL(`${this.uri}${endpoint}`);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    let body: string | Uint8Array | undefined;
    if (init.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.body !== undefined) {
      headers['Content-Type'] = 'application/octet-stream';
      body = init.body;
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new MlflowError(`MLflow ${method} ${url.href} failed: no answer (${why})`, 'UNREACHABLE', 0, endpoint);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let code = `HTTP_${res.status}`;
      let message = text.slice(0, 500) || res.statusText;
      try {
        const parsed = JSON.parse(text) as { error_code?: string; message?: string };
        if (parsed.error_code) code = parsed.error_code;
        if (parsed.message) message = parsed.message;
      } catch {
        /* not JSON (proxy error page): keep the text */
      }
      throw new MlflowError(
        `MLflow ${method} ${endpoint} → ${res.status} ${code}: ${message}`,
        code,
        res.status,
        endpoint,
      );
    }
    if (init.raw) return new Uint8Array(await res.arrayBuffer());
    const text = await res.text();
    return text ? JSON.parse(text) : {};
  }

  private get(endpoint: string, query: Record<string, string | number | undefined>) {
    return this.request('GET', `/api/2.0/mlflow/${endpoint}`, { query });
  }
  private post(endpoint: string, json: unknown) {
    return this.request('POST', `/api/2.0/mlflow/${endpoint}`, { json });
  }

  // ---- experiments ----

  /** null when no experiment has that name. */
  async getExperimentByName(name: string): Promise<MlflowExperiment | null> {
    try {
      const res = await this.get('experiments/get-by-name', { experiment_name: name });
      return res.experiment as MlflowExperiment;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  async createExperiment(name: string, tags: MlflowTag[] = []): Promise<string> {
    const res = await this.post('experiments/create', { name, tags });
    return String(res.experiment_id);
  }

  /** Get-or-create; tolerates another process creating it at the same moment. */
  async ensureExperiment(name: string): Promise<MlflowExperiment> {
    const existing = await this.getExperimentByName(name);
    if (existing) {
      if (existing.lifecycle_stage === 'deleted') {
        throw new MlflowError(
          `MLflow experiment '${name}' is deleted; restore it or choose another tracking.experiment`,
          'EXPERIMENT_DELETED',
          400,
          'experiments/get-by-name',
        );
      }
      return existing;
    }
    try {
      await this.createExperiment(name);
    } catch (err) {
      if (!(err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    const created = await this.getExperimentByName(name);
    if (!created)
      throw new MlflowError(
        `MLflow experiment '${name}' was created but cannot be read back`,
        'INTERNAL_ERROR',
        500,
        'experiments/get-by-name',
      );
    return created;
  }

  // ---- runs ----

  async createRun(opts: {
    experimentId: string;
    runName?: string;
    startTime?: number;
    tags?: MlflowTag[];
  }): Promise<MlflowRun> {
    const res = await this.post('runs/create', {
      experiment_id: opts.experimentId,
      run_name: opts.runName,
      start_time: opts.startTime ?? Date.now(),
      tags: opts.tags ?? [],
    });
    return decodeRun(res.run);
  }

  async updateRun(
    runId: string,
    update: { status?: MlflowRunStatus; endTime?: number; runName?: string },
  ): Promise<MlflowRunInfo> {
    const res = await this.post('runs/update', {
      run_id: runId,
      status: update.status,
      end_time: update.endTime,
      run_name: update.runName,
    });
    return res.run_info as MlflowRunInfo;
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const res = await this.get('runs/get', { run_id: runId });
    return decodeRun(res.run);
  }

  /** One page of runs/search; `filter` uses MLflow's syntax, e.g. `tags.stage = 'scan'`. */
  async searchRunsPage(opts: {
    experimentIds: string[];
    filter?: string;
    orderBy?: string[];
    maxResults?: number;
    pageToken?: string;
    runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  }): Promise<{ runs: MlflowRun[]; nextPageToken?: string }> {
    const res = await this.post('runs/search', {
      experiment_ids: opts.experimentIds,
      filter: opts.filter ?? '',
      order_by: opts.orderBy ?? [],
      max_results: opts.maxResults ?? 1000,
      page_token: opts.pageToken,
      run_view_type: opts.runViewType ?? 'ACTIVE_ONLY',
    });
    return { runs: (res.runs ?? []).map(decodeRun), nextPageToken: res.next_page_token || undefined };
  }

  /** All matching runs, following page tokens. */
  async searchRuns(opts: {
    experimentIds: string[];
    filter?: string;
    orderBy?: string[];
    pageSize?: number;
    runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  }): Promise<MlflowRun[]> {
    const all: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.searchRunsPage({ ...opts, maxResults: opts.pageSize ?? 1000, pageToken });
      all.push(...page.runs);
      pageToken = page.runs.length > 0 ? page.nextPageToken : undefined;
    } while (pageToken);
    return all;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.post('runs/set-tag', { run_id: runId, key, value });
  }

  /**
   * Logs any number of metrics, params and tags, split into requests within the server's batch limits
   * (see batching.ts). Returns the number of requests sent.
   */
  async logBatch(runId: string, batch: Partial<LogBatchPayload>): Promise<number> {
    const chunks = splitLogBatch({ metrics: batch.metrics ?? [], params: batch.params ?? [], tags: batch.tags ?? [] });
    for (const chunk of chunks) {
      await this.post('runs/log-batch', {
        run_id: runId,
        metrics: chunk.metrics.map((m) => ({
          key: m.key,
          value: encodeMetricValue(m.value),
          timestamp: Math.round(m.timestamp),
          step: Math.round(m.step),
        })),
        params: chunk.params,
        tags: chunk.tags,
      });
    }
    return chunks.length;
  }

  /** Full history of one metric, following page tokens. */
  async getMetricHistory(runId: string, metricKey: string, pageSize = 25_000): Promise<MlflowMetric[]> {
    const all: MlflowMetric[] = [];
    let pageToken: string | undefined;
    do {
      // max_results must be sent: the 3.1 server reads a missing one as 0 and answers an empty page.
      const res = await this.get('metrics/get-history', {
        run_id: runId,
        metric_key: metricKey,
        max_results: pageSize,
        page_token: pageToken,
      });
      const metrics = (res.metrics ?? []).map(decodeMetric);
      all.push(...metrics);
      pageToken = metrics.length > 0 ? res.next_page_token || undefined : undefined;
    } while (pageToken);
    return all;
  }

  // ---- artifacts (through the server's mlflow-artifacts proxy) ----

  /** Uploads bytes to `<run artifact root>/<artifactPath>` (PUT /api/2.0/mlflow-artifacts/artifacts/...). */
  async uploadArtifact(run: MlflowRunInfo, artifactPath: string, bytes: Uint8Array): Promise<void> {
    const root = proxiedArtifactRoot(run.artifact_uri);
    await this.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${root}/${artifactPath}`)}`, {
      body: bytes,
    });
  }

  /** Lists one folder of a run's artifacts ('' = the root); paths come back relative to the run's root. */
  async listArtifacts(run: MlflowRunInfo, folder = ''): Promise<MlflowFileInfo[]> {
    const root = proxiedArtifactRoot(run.artifact_uri);
    const res = await this.request('GET', '/api/2.0/mlflow-artifacts/artifacts', {
      query: { path: folder ? `${root}/${folder}` : root },
    });
    const files = (res.files ?? []) as MlflowFileInfo[];
    // The proxy answers base names; make them relative to the run root like the tracking API does.
    return files.map((f) => ({
      ...f,
      path: folder ? `${folder}/${f.path}` : f.path,
      file_size: f.file_size === undefined ? undefined : Number(f.file_size),
    }));
  }

  async downloadArtifact(run: MlflowRunInfo, artifactPath: string): Promise<Uint8Array> {
    const root = proxiedArtifactRoot(run.artifact_uri);
    return this.request('GET', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${root}/${artifactPath}`)}`, {
      raw: true,
    });
  }
}
