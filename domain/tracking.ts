// C8: what a user sees of their own case, from a tracking code in every message. Pure: the API
// reads the state and the messages, this decides what of them the user may see.

import type { ActionTable } from './case-actions';
import type { CaseState } from './case-state';
import { resolveLocale, type Locale } from './notification-templates';

/** Tracking codes are 20 characters of Crockford base32 in lower case: 100 random bits. */
export const trackingCodeAlphabet = '0123456789abcdefghjkmnpqrstvwxyz';
export const trackingCodeLength = 20;

/** A code as typed or pasted (any case, surrounding spaces) in canonical form; undefined when it cannot be one. */
export function normalizeTrackingCode(input: string): string | undefined {
  const code = input.trim().toLowerCase();
  if (code.length !== trackingCodeLength) return undefined;
  for (const character of code) if (!trackingCodeAlphabet.includes(character)) return undefined;
  return code;
}

/** The page a message links to: `<PLEDGE_PUBLIC_URL>/track/<code>`. */
export function trackingUrl(publicUrl: string, code: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/track/${code}`;
}

/** The actions of a case type a customer may take (when the status allows): those whose roles include `customer`. */
export function customerActionNames(table: ActionTable<string> | undefined): string[] {
  return Object.entries(table ?? {})
    .filter(([, rule]) => rule.roles.includes('customer'))
    .map(([name]) => name);
}

/** One outbox row of the case for this customer, as stored (one per channel). */
export interface TrackedMessageRow {
  /** The message's key without its channel: the rows of one message share it. */
  messageKey: string;
  channel: string;
  status: string;
  subject: string;
  body: string;
  createdAt: string;
  sentAt: string | null;
}

export interface TrackedDelivery {
  channel: string;
  /** pending, sending, sent or failed. */
  status: string;
  sentAt: string | null;
}

/** One message the user was sent, with how it went out on each channel. */
export interface TrackedMessage {
  subject: string;
  body: string;
  queuedAt: string;
  deliveries: TrackedDelivery[];
}

export interface TrackedDeadline {
  name: string;
  dueAt: string | null;
  state: string;
}

/**
 * The user's view of a case: never the details blob, internal notes, the assignee, staff names or
 * actor ids; only what the case promises the user and what they were told.
 */
export interface TrackedCase {
  caseId: string;
  type: string;
  status: string;
  nextStep: string | null;
  expectedCompletionAt: string | null;
  openedAt: string;
  updatedAt: string;
  /** The customer's locale, in which the page is shown. */
  locale: Locale;
  deadlines: TrackedDeadline[];
  /** The user's own rating of the outcome (C10), when they gave one. */
  rating: { rating: number; comment: string | null } | null;
  /** Newest first. */
  messages: TrackedMessage[];
  /** What the user may do now: the case's allowed actions that a customer may take. */
  allowedActions: string[];
}

export function trackedCase(state: CaseState, input: { messages: readonly TrackedMessageRow[]; actions: ActionTable<string> | undefined; locale: string }): TrackedCase {
  const customerActions = new Set(customerActionNames(input.actions));
  return {
    caseId: state.caseId,
    type: state.type,
    status: state.status,
    nextStep: state.nextStep,
    expectedCompletionAt: state.expectedCompletionAt,
    openedAt: state.openedAt,
    updatedAt: state.updatedAt,
    locale: resolveLocale(input.locale),
    deadlines: state.deadlines.map((deadline) => ({ name: deadline.name, dueAt: deadline.dueAt, state: deadline.state })),
    rating: ownRating(state),
    messages: groupMessages(input.messages),
    allowedActions: state.allowedActions.filter((action) => customerActions.has(action)),
  };
}

function ownRating(state: CaseState): TrackedCase['rating'] {
  if (state.type !== 'complaint') return null;
  const rating = (state.details as { rating?: unknown }).rating;
  if (!rating || typeof rating !== 'object') return null;
  const { rating: value, comment } = rating as { rating?: unknown; comment?: unknown };
  return typeof value === 'number' ? { rating: value, comment: typeof comment === 'string' ? comment : null } : null;
}

/** The rows of one message (inbox, e-mail, …) become one message with a delivery per channel, newest message first. */
function groupMessages(rows: readonly TrackedMessageRow[]): TrackedMessage[] {
  const messages = new Map<string, TrackedMessage>();
  for (const row of rows) {
    let message = messages.get(row.messageKey);
    if (!message) messages.set(row.messageKey, (message = { subject: row.subject, body: row.body, queuedAt: row.createdAt, deliveries: [] }));
    if (row.createdAt < message.queuedAt) message.queuedAt = row.createdAt;
    message.deliveries.push({ channel: row.channel, status: row.status, sentAt: row.sentAt });
  }
  for (const message of messages.values()) message.deliveries.sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
  return [...messages.values()].sort((a, b) => (a.queuedAt < b.queuedAt ? 1 : a.queuedAt > b.queuedAt ? -1 : 0));
}

// The page's words (GET /track/{code}), in each locale a message can be in.

interface PageText {
  title: string;
  caseLabel: string;
  status: string;
  nextStep: string;
  expectedCompletion: string;
  deadlines: string;
  messages: string;
  noMessages: string;
  actions: string;
  yourRating: string;
  submit: string;
  done: string;
  optional: string;
  via: string;
  notFound: string;
  types: Record<string, string>;
  statuses: Record<string, string>;
  nextSteps: Record<string, string>;
  deadlineNames: Record<string, string>;
  deadlineStates: Record<string, string>;
  deliveryStates: Record<string, string>;
  channels: Record<string, string>;
  actionNames: Record<string, string>;
  fields: Record<string, string>;
  claim: { title: string; intro: string; reason: string; evidence: string; submit: string };
}

export const trackingPageText: Record<Locale, PageText> = {
  'zh-CN': {
    title: '案件进度',
    caseLabel: '案件编号',
    status: '状态',
    nextStep: '下一步',
    expectedCompletion: '预计完成时间',
    deadlines: '时限',
    messages: '我们发给您的消息',
    noMessages: '暂无消息。',
    actions: '您可以',
    yourRating: '您的评价',
    submit: '提交',
    done: '已提交，谢谢。',
    optional: '（选填）',
    via: '发送渠道',
    notFound: '未找到该查询码，或该查询码已失效。',
    types: { complaint: '投诉', incident: '服务中断', compensation: '补偿申请', 'service-change': '业务变更', termination: '终止服务', 'data-request': '个人信息请求' },
    statuses: {
      'complaint:received': '已受理',
      'complaint:acknowledged': '处理中',
      'complaint:awaiting-customer': '等待您补充信息',
      'complaint:preliminary-reported': '已告知初步结论',
      'complaint:resolved': '已有处理结果',
      'complaint:disputed': '申诉处理中',
      'complaint:referred': '已转第三方处理',
      'complaint:closed': '已结案',
      'incident:open': '处理中',
      'incident:resolved': '已恢复',
      'incident:closed': '已结束',
      'compensation:awaiting-approval': '审核中',
      'compensation:approved': '已批准，正在支付',
      'compensation:paid': '已支付',
      'compensation:rejected': '未获批准',
      'compensation:reversed': '已撤回支付',
      'compensation:closed': '已结束',
      'termination:scheduled': '已通知，尚未生效',
      'termination:terminated': '服务已终止',
      'termination:closed': '已结束',
      'termination:withdrawn': '已撤销终止',
    },
    nextSteps: {
      'complaint:received': '客服人员将尽快给您首次答复。',
      'complaint:acknowledged': '我们正在调查，并将告知您初步结论。',
      'complaint:awaiting-customer': '请回复我们的问题；在您回复之前，处理时限暂停计算。',
      'complaint:preliminary-reported': '我们将告知您最终处理结果。',
      'complaint:resolved': '您可以评价、申诉或重新打开本投诉；否则在期限届满后自动结案。',
      'complaint:disputed': '平台正在对您的申诉进行仲裁。',
      'complaint:referred': '第三方正在处理，处理完毕后结案。',
      'incident:open': '我们正在抢修，并会及时告知您进展。',
      'incident:resolved': '服务已恢复。',
      'compensation:awaiting-approval': '主管将在 5 个工作日内审核您的申请。',
      'compensation:approved': '补偿正在支付，到账后我们会书面通知您。',
      'termination:scheduled': '生效日前您可以导出个人数据；请注意账户安全。',
      'termination:terminated': '服务已终止；您的个人数据将在 30 天后删除。',
    },
    deadlineNames: {
      firstResponse: '首次答复',
      fullResponse: '完整答复',
      preliminary: '初步结论',
      result: '处理结果',
      arbitration: '申诉仲裁',
      notice: '中断通知',
      repair: '修复',
      review: '事后复盘',
    },
    deadlineStates: { pending: '进行中', paused: '已暂停', met: '已按时完成', breached: '已超时', cancelled: '已取消' },
    deliveryStates: { pending: '待发送', sending: '发送中', sent: '已发送，等待送达回执', delivered: '已送达', failed: '发送失败', 'not-sent': '未发送' },
    channels: { inbox: '站内信', email: '电子邮件', sms: '短信' },
    actionNames: {
      rate: '评价处理结果',
      'customer-reply': '回复我们的问题',
      dispute: '对结果提出申诉',
      reopen: '重新打开投诉',
      confirm: '确认处理结果',
      withdraw: '撤回投诉',
      'request-export': '导出我的数据',
    },
    fields: { rating: '满意度（1–5）', comment: '意见', reason: '原因', message: '回复内容' },
    claim: {
      title: '申请补偿',
      intro: '如果这次故障给您造成了损失，可以在故障结束后 30 天内申请补偿。我们会按公开的补偿政策计算，并书面告知结果。',
      reason: '受到的影响',
      evidence: '补充说明（可选）',
      submit: '提交申请',
    },
  },
  en: {
    title: 'Case progress',
    claim: {
      title: 'Claim compensation',
      intro: 'If this outage cost you, you can claim within 30 days of its end. We compute the amount by our published policy and tell you the result in writing.',
      reason: 'How it affected you',
      evidence: 'Anything else we should know (optional)',
      submit: 'Send the claim',
    },
    caseLabel: 'Case',
    status: 'Status',
    nextStep: 'Next step',
    expectedCompletion: 'Expected completion',
    deadlines: 'Deadlines',
    messages: 'Messages we sent you',
    noMessages: 'No messages yet.',
    actions: 'What you can do',
    yourRating: 'Your rating',
    submit: 'Send',
    done: 'Sent, thank you.',
    optional: ' (optional)',
    via: 'Sent by',
    notFound: 'This tracking code is unknown or no longer valid.',
    types: {
      complaint: 'Complaint',
      incident: 'Service interruption',
      compensation: 'Compensation claim',
      'service-change': 'Service change',
      termination: 'Termination',
      'data-request': 'Personal data request',
    },
    statuses: {
      'complaint:received': 'Received',
      'complaint:acknowledged': 'Being handled',
      'complaint:awaiting-customer': 'Waiting for your answer',
      'complaint:preliminary-reported': 'Preliminary finding sent',
      'complaint:resolved': 'Resolved',
      'complaint:disputed': 'Dispute under arbitration',
      'complaint:referred': 'Referred to a third party',
      'complaint:closed': 'Closed',
      'incident:open': 'Being repaired',
      'incident:resolved': 'Service restored',
      'incident:closed': 'Closed',
      'compensation:awaiting-approval': 'Under review',
      'compensation:approved': 'Approved, being paid',
      'compensation:paid': 'Paid',
      'compensation:rejected': 'Not approved',
      'compensation:reversed': 'Payment reversed',
      'compensation:closed': 'Closed',
      'termination:scheduled': 'Notified, not yet in effect',
      'termination:terminated': 'Service ended',
      'termination:closed': 'Closed',
      'termination:withdrawn': 'Termination withdrawn',
    },
    nextSteps: {
      'complaint:received': 'An agent will send you a first response soon.',
      'complaint:acknowledged': 'We are investigating and will tell you our preliminary finding.',
      'complaint:awaiting-customer': 'Please answer our question; our deadlines are paused until you do.',
      'complaint:preliminary-reported': 'We will send you the result.',
      'complaint:resolved': 'You may rate, dispute or reopen the result; otherwise the case closes when the window ends.',
      'complaint:disputed': 'The platform is arbitrating your dispute.',
      'complaint:referred': 'The third party decides; then the case is closed.',
      'incident:open': 'We are restoring service and will keep you informed.',
      'incident:resolved': 'Service has been restored.',
      'compensation:awaiting-approval': 'A supervisor decides on your claim within 5 working days.',
      'compensation:approved': 'The compensation is being paid; we tell you in writing when it is.',
      'termination:scheduled': 'Until the effective date you can export your data; keep your account secure.',
      'termination:terminated': 'The service has ended; your personal data is deleted after 30 days.',
    },
    deadlineNames: {
      firstResponse: 'First response',
      fullResponse: 'Full response',
      preliminary: 'Preliminary finding',
      result: 'Result',
      arbitration: 'Arbitration',
      notice: 'Outage notice',
      repair: 'Repair',
      review: 'Post-incident review',
    },
    deadlineStates: { pending: 'running', paused: 'paused', met: 'met', breached: 'missed', cancelled: 'cancelled' },
    deliveryStates: { pending: 'queued', sending: 'sending', sent: 'sent, awaiting delivery receipt', delivered: 'delivered', failed: 'failed', 'not-sent': 'not sent' },
    channels: { inbox: 'in-app inbox', email: 'e-mail', sms: 'SMS' },
    actionNames: {
      rate: 'Rate the outcome',
      'customer-reply': 'Answer our question',
      dispute: 'Dispute the result',
      reopen: 'Reopen the complaint',
      confirm: 'Confirm the result',
      withdraw: 'Withdraw the complaint',
      'request-export': 'Export my data',
    },
    fields: { rating: 'Satisfaction (1–5)', comment: 'Comment', reason: 'Reason', message: 'Your answer' },
  },
};

/** A deadline's name for users: `result-2` reads as the result deadline. */
export function deadlineLabel(name: string, locale: Locale): string {
  const base = name.replace(/-\d+$/, '');
  return trackingPageText[locale].deadlineNames[base] ?? name;
}

/** The status in the user's words, falling back to the status itself. */
export function statusLabel(type: string, status: string, locale: Locale): string {
  return trackingPageText[locale].statuses[`${type}:${status}`] ?? status;
}

/** The next step in the user's words; the state's own (staff-facing, English) text when there is none. */
export function userNextStep(view: Pick<TrackedCase, 'type' | 'status' | 'nextStep'>, locale: Locale): string | null {
  if (view.nextStep === null) return null;
  return trackingPageText[locale].nextSteps[`${view.type}:${view.status}`] ?? view.nextStep;
}
