import type { TemplateSet } from './template-set';

/** What a compensation claim tells its user (P2: in writing), in every locale. */
export const claimTemplates = {
  'claim.received': {
    'zh-CN': {
      subject: '我们已收到您的补偿申请（{caseId}）',
      body: '您好：\n\n我们已收到您的补偿申请（编号 {caseId}），申请金额 {amount}，将在规定时限内完成审核并告知您结果。',
    },
    en: {
      subject: 'We have received your compensation claim ({caseId})',
      body: 'Hello,\n\nWe have received your compensation claim ({caseId}) for {amount}. We will decide on it within the promised time and tell you the result.',
    },
  },
  'claim.paid': {
    'zh-CN': {
      subject: '补偿已发放（{caseId}）',
      body: '您好：\n\n您的补偿申请（编号 {caseId}）已批准，{amount} 已发放至您的账户（补偿标准 {policyVersion}）。',
    },
    en: {
      subject: 'Your compensation has been paid ({caseId})',
      body: 'Hello,\n\nYour compensation claim ({caseId}) was approved and {amount} has been credited to your account (compensation policy {policyVersion}).',
    },
  },
  'claim.rejected': {
    'zh-CN': {
      subject: '关于您的补偿申请（{caseId}）',
      body: '您好：\n\n很抱歉，您的补偿申请（编号 {caseId}）未获批准，原因如下：\n\n{reason}\n\n如有异议，可通过投诉渠道提出。',
    },
    en: {
      subject: 'About your compensation claim ({caseId})',
      body: 'Hello,\n\nWe are sorry: your compensation claim ({caseId}) was not approved, for this reason:\n\n{reason}\n\nIf you disagree, you can complain through any of our channels.',
    },
  },
  'claim.refused': {
    'zh-CN': {
      subject: '关于您的补偿申请（{caseId}）',
      body: '您好：\n\n您的补偿申请（编号 {caseId}）无法受理，原因如下：\n\n{reason}',
    },
    en: {
      subject: 'About your compensation claim ({caseId})',
      body: 'Hello,\n\nYour compensation claim ({caseId}) cannot be accepted, for this reason:\n\n{reason}',
    },
  },
  'claim.reversed': {
    'zh-CN': {
      subject: '补偿更正通知（{caseId}）',
      body: '您好：\n\n此前就申请 {caseId} 发放的 {amount} 因以下原因已更正（冲回）：\n\n{reason}\n\n如有疑问请联系我们。',
    },
    en: {
      subject: 'A correction to your compensation ({caseId})',
      body: 'Hello,\n\nThe {amount} paid for claim {caseId} has been reversed, for this reason:\n\n{reason}\n\nPlease contact us with any question.',
    },
  },
} satisfies TemplateSet;
