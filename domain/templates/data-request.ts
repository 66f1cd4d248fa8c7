import type { TemplateSet } from './template-set';

/**
 * What a data-subject request tells its user (D3), in every locale. Times arrive as locale-neutral
 * strings ("2026-12-18 00:00 (Asia/Shanghai)"). No message repeats the personal data itself.
 */
export const dataRequestTemplates = {
  'data-request.received': {
    'zh-CN': {
      subject: '我们已收到您的个人信息请求（{caseId}）',
      body: '您好：\n\n我们已收到您关于个人信息的请求（编号 {caseId}），将在 {dueAt} 前答复您。您可以通过下方查询链接随时查看进度。',
    },
    en: {
      subject: 'We have received your personal data request ({caseId})',
      body: 'Hello,\n\nWe have received your request about your personal data (case {caseId}) and will answer by {dueAt}. You can follow it at any time from the link below.',
    },
  },
  'data-request.access-ready': {
    'zh-CN': {
      subject: '您的个人信息副本已生成（{caseId}）',
      body: '您好：\n\n您申请的个人信息副本（{sizeBytes} 字节，SHA-256 {sha256}）已于 {createdAt} 生成，包括您的资料、案件、案件记录、消息和账务记录。请在下方查询链接末尾加上 /export 下载。',
    },
    en: {
      subject: 'A copy of your personal data is ready ({caseId})',
      body: 'Hello,\n\nThe copy of your personal data you asked for ({sizeBytes} bytes, SHA-256 {sha256}) was made at {createdAt}: your details, cases, case records, messages and ledger. Add /export to the link below to download it.',
    },
  },
  'data-request.corrected': {
    'zh-CN': {
      subject: '您的个人信息已更正（{caseId}）',
      body: '您好：\n\n我们已按您的请求更正了以下信息：{fields}（编号 {caseId}）。',
    },
    en: {
      subject: 'Your personal data was corrected ({caseId})',
      body: 'Hello,\n\nAs you asked, we corrected: {fields} (case {caseId}).',
    },
  },
  'data-request.deleted': {
    'zh-CN': {
      subject: '您的个人信息已删除（{caseId}）',
      body: '您好：\n\n我们已于 {deletedAt} 删除您的个人信息（姓名、联系方式、渠道偏好，以及已发送消息的正文和收件地址）。依法须保留的案件记录会保留，但不再与您的联系方式关联。我们已不再保存您的联系方式，因此本通知仅可通过下方查询链接查看。',
    },
    en: {
      subject: 'Your personal data was deleted ({caseId})',
      body: 'Hello,\n\nOn {deletedAt} we deleted your personal data (name, contact details, channel preferences, and the text and addresses of the messages we sent you). Case records the law requires us to keep are kept, no longer linked to your contact details. We no longer hold your contact details, so this notice can only be read from the link below.',
    },
  },
  'data-request.deletion-deferred': {
    'zh-CN': {
      subject: '您的个人信息将稍后删除（{caseId}）',
      body: '您好：\n\n您仍有尚未结束的案件需要使用您的个人信息：{reason}。这些案件预计于 {untilAt} 前结束，届时我们将删除您的个人信息并再次通知您（编号 {caseId}）。',
    },
    en: {
      subject: 'Your personal data will be deleted later ({caseId})',
      body: 'Hello,\n\nSome of your cases are still open and need your personal data: {reason}. They are expected to end by {untilAt}; we will delete your personal data then and tell you (case {caseId}).',
    },
  },
  'data-request.deletion-held': {
    'zh-CN': {
      subject: '关于删除您的个人信息（{caseId}）',
      body: '您好：\n\n很抱歉，依照法律要求，我们目前必须保留您的个人信息（法律保全），因此暂时无法删除（编号 {caseId}）。保全解除后，您可以再次提出删除请求。\n\n如有异议，您可以通过下方查询链接联系我们。',
    },
    en: {
      subject: 'About deleting your personal data ({caseId})',
      body: 'Hello,\n\nWe are sorry: the law currently requires us to keep your personal data (a legal hold), so we cannot delete it now (case {caseId}). Once the hold ends you may ask again.\n\nIf you disagree, contact us from the link below.',
    },
  },
  'data-request.refused': {
    'zh-CN': {
      subject: '关于您的个人信息请求（{caseId}）',
      body: '您好：\n\n很抱歉，我们无法完成您的请求（编号 {caseId}）。原因：{reason}\n\n如有异议，您可以通过下方查询链接联系我们。',
    },
    en: {
      subject: 'About your personal data request ({caseId})',
      body: 'Hello,\n\nWe are sorry: we cannot carry out your request (case {caseId}). Reason: {reason}\n\nIf you disagree, contact us from the link below.',
    },
  },
} satisfies TemplateSet;
