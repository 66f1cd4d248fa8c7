/**
 * The fault test's load: cases of every type opened and acted on over HTTP as a real client would —
 * each request with an Idempotency-Key, and a request that fails (connection refused or cut, a 5xx,
 * no answer in time) sent again with the same key and body until it is answered.
 */
import { setTimeout as delay } from 'node:timers/promises';

export const keys = { agent: 'dev-agent-key', supervisor: 'dev-supervisor-key', auditor: 'dev-auditor-key' };

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

export interface ClientStats {
  /** Logical requests (one per Idempotency-Key or read). */
  requests: number;
  /** Requests that needed at least one more attempt. */
  retried: number;
  /** Extra attempts, by why the attempt before failed. */
  retries: Record<string, number>;
  /** Answers marked Idempotent-Replayed: a retry found the case its first attempt had opened. */
  replayed: number;
  /** Requests never answered before the deadline. */
  gaveUp: number;
}

export class RetryingClient {
  inFlight = 0;
  readonly stats: ClientStats = { requests: 0, retried: 0, retries: {}, replayed: 0, gaveUp: 0 };

  constructor(
    private readonly baseUrl: string,
    private readonly options: { attemptTimeoutMs: number; deadlineMs: number },
  ) {}

  /** Sends until an answer below 500 arrives (429 is retried too); the same key and body every time. */
  async send(method: string, path: string, options: { key: string; body?: unknown; idempotencyKey?: string }): Promise<Answer> {
    this.stats.requests += 1;
    const deadline = Date.now() + this.options.deadlineMs;
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { authorization: `Bearer ${options.key}` };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    for (let attempt = 1; ; attempt += 1) {
      let reason: string;
      this.inFlight += 1;
      try {
        const response = await fetch(this.baseUrl + path, { method, headers, body: payload, signal: AbortSignal.timeout(this.options.attemptTimeoutMs) });
        const text = await response.text();
        if (response.status < 500 && response.status !== 429) {
          if (response.headers.get('idempotent-replayed') === 'true') this.stats.replayed += 1;
          return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
        }
        reason = `HTTP ${response.status}`;
      } catch (error) {
        reason = describeFailure(error);
      } finally {
        this.inFlight -= 1;
      }
      if (attempt === 1) this.stats.retried += 1;
      this.stats.retries[reason] = (this.stats.retries[reason] ?? 0) + 1;
      if (Date.now() > deadline) {
        this.stats.gaveUp += 1;
        throw new Error(`${method} ${path}: no answer after ${attempt} attempts (last: ${reason})`);
      }
      await delay(Math.min(2_000, 150 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }
}

function describeFailure(error: unknown): string {
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError') return 'no answer in time';
  const code = failure.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || /other side closed|socket hang up/i.test(failure.cause?.message ?? '')) return 'connection cut';
  return code ?? failure.message ?? String(error);
}

export type FlowKind = 'complaint' | 'complaint-acknowledged' | 'complaint-resolved' | 'incident' | 'claim' | 'service-change' | 'renewal' | 'termination' | 'data-request';

export interface PlannedCase {
  kind: FlowKind;
  /** The case type in the read model. */
  type: string;
  key: string;
  customerId: string | null;
  expectedStatus: string;
  caseId?: string;
  error?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const hourMs = 3_600_000;

/** What each case of a kind sends: its intake, then its actions, each with a key of its own. */
export async function runFlow(client: RetryingClient, plan: PlannedCase, context: { fanoutRegion: string; startedAtMs: number }): Promise<void> {
  const open = async (path: string, body: unknown) => {
    const answer = await client.send('POST', path, { key: keys.agent, body, idempotencyKey: plan.key });
    if (answer.status !== 201) throw new Error(`POST ${path} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    plan.caseId = answer.body.caseId as string;
  };
  const act = async (action: string, input: Record<string, unknown>) => {
    const answer = await client.send('POST', `/v1/cases/${plan.caseId}/actions/${action}`, { key: keys.agent, body: { input }, idempotencyKey: `${plan.key}:${action}` });
    if (answer.status !== 200) throw new Error(`${action} on ${plan.caseId} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  };
  const response = (verb: string) => ({
    problem: `Fault test: the problem as understood (${plan.key})`,
    steps: 'Checked the account; corrected the bill',
    expectedCompletionAt: iso(context.startedAtMs + 48 * hourMs),
    [verb]: `Fault test ${verb} for ${plan.key}`,
  });
  switch (plan.kind) {
    case 'complaint':
    case 'complaint-acknowledged':
    case 'complaint-resolved':
      await open('/v1/complaints', { customerId: plan.customerId, channel: 'web', category: 'billing', summary: `Fault test complaint ${plan.key}` });
      if (plan.kind === 'complaint-acknowledged') await act('acknowledge', response('message'));
      if (plan.kind === 'complaint-resolved') await act('resolve', response('resolution'));
      return;
    case 'incident':
      await open('/v1/incidents', {
        title: `Fault test outage ${plan.key}`,
        severity: 'SEV3',
        startedAt: iso(context.startedAtMs - 40 * 60_000),
        scope: { services: ['broadband'], regions: [context.fanoutRegion] },
      });
      await act('publish-notice', {});
      await act('resolve', { summary: `Fault test: restored (${plan.key})` });
      return;
    case 'claim':
      await open('/v1/compensation-claims', {
        customerId: plan.customerId,
        eventAt: iso(context.startedAtMs - 24 * hourMs),
        reason: `Fault test: no service for an afternoon (${plan.key})`,
        requestedRemedy: { kind: 'coupon', amount: 500 },
      });
      return;
    case 'service-change': {
      const effectiveAtMs = Math.ceil((context.startedAtMs + 50 * hourMs) / 60_000) * 60_000;
      await open('/v1/service-changes', {
        changeType: 'maintenance',
        title: `Fault test router upgrade ${plan.key}`,
        whatChanges: 'New firmware on the core routers',
        impact: { services: ['broadband'], regions: [context.fanoutRegion], downtime: { startsAt: iso(effectiveAtMs), endsAt: iso(effectiveAtMs + 2 * hourMs) } },
        userAction: 'Nothing: your router reconnects by itself',
        contacts: 'Call 10000',
        appealChannel: 'https://isp.example/appeal',
        effectiveAt: iso(effectiveAtMs),
      });
      return;
    }
    case 'renewal':
      await open('/v1/renewal-notices', {
        customerId: plan.customerId,
        service: 'Home broadband 500M',
        fees: '¥99.00 per month',
        term: '12 months',
        conditions: 'Renews automatically',
        contacts: 'Call 10000',
        renewalDate: iso(context.startedAtMs + 10 * 24 * hourMs).slice(0, 10),
      });
      return;
    case 'termination':
      await open('/v1/terminations', { customerId: plan.customerId, initiatedBy: 'customer', reason: `Fault test: moving abroad (${plan.key})` });
      return;
    case 'data-request':
      await open('/v1/data-requests', { customerId: plan.customerId, kind: 'access', verification: { method: 'id-document', reference: 'ID card ending 4417', verifiedBy: 'agent Wang' } });
      return;
  }
}

/**
 * Starts the flows at `ratePerSecond`, at most `concurrency` at a time, in the order given; a flow
 * that fails keeps its error (the checks count it) and the others go on.
 */
export async function runLoad(
  client: RetryingClient,
  plans: PlannedCase[],
  options: { concurrency: number; ratePerSecond: number; fanoutRegion: string; startedAtMs: number; progress: { started: number; finished: number } },
): Promise<void> {
  const running = new Set<Promise<void>>();
  const gapMs = 1000 / options.ratePerSecond;
  let nextAt = Date.now();
  for (const plan of plans) {
    while (running.size >= options.concurrency) await Promise.race(running);
    const wait = nextAt - Date.now();
    if (wait > 0) await delay(wait);
    nextAt = Math.max(nextAt + gapMs, Date.now() - gapMs);
    options.progress.started += 1;
    const flow = runFlow(client, plan, options)
      .catch((error: Error) => {
        plan.error = error.message;
      })
      .finally(() => {
        options.progress.finished += 1;
        running.delete(flow);
      });
    running.add(flow);
  }
  await Promise.all(running);
}
