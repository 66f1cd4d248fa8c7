import type { Locale } from './template-set';
import type { TemplateSet } from './template-set';

// N2: every change notice states the change type, what changes, the impact (services, regions,
// downtime), what the user must do, contacts and the appeal channel. N4: a renewal notice states
// the service, fees, term and conditions. Placeholders are filled per customer locale by
// domain/service-change.ts (changeMessageParams).
const changeFacts = {
  'zh-CN':
    '变更类型：{changeType}\n变更内容：{whatChanges}\n生效时间：{effectiveAt}\n影响服务：{services}\n影响地区：{regions}\n预计中断：{downtime}\n\n' +
    '您需要做的：{userAction}\n\n联系方式：{contacts}\n如有异议，可通过以下渠道申诉：{appealChannel}',
  en:
    'Type of change: {changeType}\nWhat changes: {whatChanges}\nTakes effect: {effectiveAt}\nServices affected: {services}\nRegions affected: {regions}\nExpected downtime: {downtime}\n\n' +
    'What you need to do: {userAction}\n\nContact us: {contacts}\nTo appeal: {appealChannel}',
} as const;

export const changeTemplates = {
  // N1–N3: the notice, at least 48 hours before the change takes effect.
  'change.notice': {
    'zh-CN': {
      subject: '服务变更通知（{caseId}）：{title}',
      body: '您好：\n\n我们计划对您使用的服务进行以下变更：{title}\n\n' + changeFacts['zh-CN'] + '\n\n变更编号：{caseId}。',
    },
    en: {
      subject: 'Planned service change ({caseId}): {title}',
      body: 'Hello,\n\nWe are planning the following change to a service you use: {title}\n\n' + changeFacts.en + '\n\nChange reference: {caseId}.',
    },
  },
  // N1: a supervisor approved a change with less than the notice period, for this reason.
  'change.emergency': {
    'zh-CN': {
      subject: '紧急服务变更通知（{caseId}）：{title}',
      body: '您好：\n\n因以下原因，我们需要在不足 {noticeHours} 小时的通知期内对您使用的服务进行紧急变更：{justification}\n\n变更：{title}\n\n' + changeFacts['zh-CN'] + '\n\n变更编号：{caseId}。',
    },
    en: {
      subject: 'Emergency service change ({caseId}): {title}',
      body:
        'Hello,\n\nFor the following reason we must make an emergency change with less than {noticeHours} hours of notice: {justification}\n\nThe change: {title}\n\n' +
        changeFacts.en +
        '\n\nChange reference: {caseId}.',
    },
  },
  // N2: a reminder the day before.
  'change.reminder': {
    'zh-CN': {
      subject: '提醒：服务变更将于 {effectiveAt} 生效（{caseId}）',
      body: '您好：\n\n提醒您，以下服务变更即将生效：{title}\n\n' + changeFacts['zh-CN'] + '\n\n变更编号：{caseId}。',
    },
    en: {
      subject: 'Reminder: a service change takes effect {effectiveAt} ({caseId})',
      body: 'Hello,\n\nA reminder that the following service change takes effect soon: {title}\n\n' + changeFacts.en + '\n\nChange reference: {caseId}.',
    },
  },
  'change.rescheduled': {
    'zh-CN': {
      subject: '服务变更时间调整（{caseId}）：{title}',
      body: '您好：\n\n服务变更“{title}”原定于 {previousEffectiveAt} 生效，现调整如下。调整原因：{reason}\n\n' + changeFacts['zh-CN'] + '\n\n变更编号：{caseId}。',
    },
    en: {
      subject: 'A service change was rescheduled ({caseId}): {title}',
      body: 'Hello,\n\nThe service change "{title}", planned for {previousEffectiveAt}, has moved. The reason: {reason}\n\n' + changeFacts.en + '\n\nChange reference: {caseId}.',
    },
  },
  'change.cancelled': {
    'zh-CN': {
      subject: '服务变更已取消（{caseId}）：{title}',
      body: '您好：\n\n原定于 {effectiveAt} 生效的服务变更“{title}”已取消，您的服务保持不变，无需任何操作。取消原因：{reason}\n\n联系方式：{contacts}\n变更编号：{caseId}。',
    },
    en: {
      subject: 'A service change was cancelled ({caseId}): {title}',
      body:
        'Hello,\n\nThe service change "{title}", planned for {effectiveAt}, is cancelled: your service stays as it is and you need do nothing. The reason: {reason}\n\n' +
        'Contact us: {contacts}\nChange reference: {caseId}.',
    },
  },
  'change.done': {
    'zh-CN': {
      subject: '服务变更已完成（{caseId}）：{title}',
      body: '您好：\n\n服务变更“{title}”已于 {completedAt} 完成。{summary}\n\n如发现服务异常，请联系我们：{contacts}\n如有异议，可通过以下渠道申诉：{appealChannel}\n变更编号：{caseId}。',
    },
    en: {
      subject: 'A service change is done ({caseId}): {title}',
      body:
        'Hello,\n\nThe service change "{title}" was completed at {completedAt}. {summary}\n\nIf anything does not work as it should, contact us: {contacts}\nTo appeal: {appealChannel}\n' +
        'Change reference: {caseId}.',
    },
  },
  // N4: renewal and fee notices, ahead of the renewal date.
  'renewal.notice': {
    'zh-CN': {
      subject: '续费通知：{service} 将于 {renewalDate} 续费（{caseId}）',
      body:
        '您好：\n\n您的服务将于 {renewalDate} 续费（{daysLeft} 天后）。\n\n服务：{service}\n费用：{fees}\n服务期限：{term}\n续费条件：{conditions}\n\n' +
        '如需变更或取消续费，请在续费日前联系我们：{contacts}\n通知编号：{caseId}。',
    },
    en: {
      subject: 'Renewal notice: {service} renews on {renewalDate} ({caseId})',
      body:
        'Hello,\n\nYour service renews on {renewalDate} (in {daysLeft} days).\n\nService: {service}\nFees: {fees}\nTerm: {term}\nConditions: {conditions}\n\n' +
        'To change or cancel the renewal, contact us before that date: {contacts}\nNotice reference: {caseId}.',
    },
  },
  'renewal.cancelled': {
    'zh-CN': {
      subject: '续费通知撤回（{caseId}）：{service}',
      body: '您好：\n\n我们此前发送的关于 {service} 于 {renewalDate} 续费的通知已撤回，原因：{reason}\n\n如有疑问请联系我们：{contacts}\n通知编号：{caseId}。',
    },
    en: {
      subject: 'Renewal notice withdrawn ({caseId}): {service}',
      body: 'Hello,\n\nOur notice that {service} renews on {renewalDate} is withdrawn. The reason: {reason}\n\nQuestions: {contacts}\nNotice reference: {caseId}.',
    },
  },
} satisfies TemplateSet;

/** The words a change notice fills in per locale: the change types, an empty scope, no downtime. */
export const changeWords: Record<
  Locale,
  { changeTypes: Record<string, string>; anyService: string; anyRegion: string; noDowntime: string; listSeparator: string; downtime(from: string, to: string): string }
> = {
  'zh-CN': {
    changeTypes: { maintenance: '计划维护', upgrade: '网络或设备升级', migration: '服务迁移', tariff: '资费调整', terms: '服务条款变更', discontinuation: '业务停止', other: '其他变更' },
    anyService: '全部服务',
    anyRegion: '全部地区',
    noDowntime: '无',
    listSeparator: '、',
    downtime: (from, to) => `${from} 至 ${to}`,
  },
  en: {
    changeTypes: {
      maintenance: 'planned maintenance',
      upgrade: 'network or equipment upgrade',
      migration: 'service migration',
      tariff: 'tariff change',
      terms: 'change of terms',
      discontinuation: 'service discontinued',
      other: 'other change',
    },
    anyService: 'all services',
    anyRegion: 'all regions',
    noDowntime: 'none',
    listSeparator: ', ',
    downtime: (from, to) => `${from} to ${to}`,
  },
};
