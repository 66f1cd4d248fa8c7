import type { TemplateSet } from './template-set';

/**
 * What a termination tells its user (T2–T4), in every locale. Times and contacts arrive as
 * locale-neutral strings ("2026-12-31 00:00 (Asia/Shanghai)", "10000 · care@isp.example").
 */
export const terminationTemplates = {
  'termination.notice': {
    'zh-CN': {
      subject: '服务终止通知（{caseId}）',
      body:
        '您好：\n\n您的服务将于 {effectiveAt} 终止（编号 {caseId}）。\n\n终止原因：{reason}\n\n在终止生效前，请您：\n' +
        '1. 导出或备份您的数据：打开下方查询链接申请导出，导出完成后在链接末尾加上 /export 即可下载（包括您的个人信息、案件、消息和账务记录）；\n' +
        '2. 注意账户安全：修改与本服务关联的密码，解除绑定的支付方式，并将使用本服务邮箱或号码登录的其他账户改为其他联系方式。\n\n' +
        '终止生效时我们会为您保留一份最终备份，账户随即停用，相关资源释放；您的个人信息将在生效 {deletionDays} 天后删除，终止记录本身依法保留。\n\n' +
        '如有疑问请联系我们：{contacts}',
    },
    en: {
      subject: 'Notice of termination of your service ({caseId})',
      body:
        'Hello,\n\nYour service will end on {effectiveAt} (case {caseId}).\n\nReason: {reason}\n\nBefore that date, please:\n' +
        '1. Export or back up your data: open the link below to request an export; once it is ready, add /export to the link to download it (your personal data, cases, messages and ledger);\n' +
        '2. Keep your accounts secure: change passwords tied to this service, remove saved payment methods, and move any other account that signs in with this service’s e-mail address or number.\n\n' +
        'On that date we keep a final backup for you, deactivate the account and release its resources; your personal data is deleted {deletionDays} days later, while the record of the termination itself is kept.\n\n' +
        'Questions? Contact us: {contacts}',
    },
  },
  'termination.reminder': {
    'zh-CN': {
      subject: '提醒：您的服务将在 {daysLeft} 天后终止（{caseId}）',
      body: '您好：\n\n提醒您，您的服务将于 {effectiveAt} 终止（编号 {caseId}）。如需导出数据，请在此之前通过下方查询链接申请；并请注意账户安全（修改关联密码、解除支付绑定）。\n\n如有疑问请联系我们：{contacts}',
    },
    en: {
      subject: 'Reminder: your service ends in {daysLeft} day(s) ({caseId})',
      body: 'Hello,\n\nA reminder that your service ends on {effectiveAt} (case {caseId}). If you want your data, request an export from the link below before then, and keep your accounts secure (change linked passwords, remove saved payment methods).\n\nQuestions? Contact us: {contacts}',
    },
  },
  'termination.export-ready': {
    'zh-CN': {
      subject: '您的数据导出已完成（{caseId}）',
      body: '您好：\n\n您申请的数据导出（第 {n} 份，{sizeBytes} 字节，SHA-256 {sha256}）已于 {createdAt} 生成。请在下方查询链接末尾加上 /export 下载。\n\n如有疑问请联系我们：{contacts}',
    },
    en: {
      subject: 'Your data export is ready ({caseId})',
      body: 'Hello,\n\nThe data export you asked for (number {n}, {sizeBytes} bytes, SHA-256 {sha256}) was made at {createdAt}. Add /export to the link below to download it.\n\nQuestions? Contact us: {contacts}',
    },
  },
  'termination.withdrawn': {
    'zh-CN': {
      subject: '服务终止已撤回（{caseId}）',
      body: '您好：\n\n我们撤回了此前通知的服务终止（编号 {caseId}），您的服务将照常继续，无需任何操作。\n\n撤回原因：{reason}\n\n如有疑问请联系我们：{contacts}',
    },
    en: {
      subject: 'The termination of your service is withdrawn ({caseId})',
      body: 'Hello,\n\nWe have withdrawn the termination of your service we told you about (case {caseId}). Your service continues as before; you need do nothing.\n\nReason: {reason}\n\nQuestions? Contact us: {contacts}',
    },
  },
  'termination.effective': {
    'zh-CN': {
      subject: '您的服务已终止（{caseId}）',
      body: '您好：\n\n您的服务已于 {effectiveAt} 终止（编号 {caseId}），账户已停用，已释放的业务：{releasedServices}。我们已为您保留最终备份，您的个人信息将于 {deletionAt} 删除。\n\n如有疑问请联系我们：{contacts}',
    },
    en: {
      subject: 'Your service has ended ({caseId})',
      body: 'Hello,\n\nYour service ended on {effectiveAt} (case {caseId}); the account is deactivated and these services were released: {releasedServices}. We keep a final backup of your data; your personal data will be deleted on {deletionAt}.\n\nQuestions? Contact us: {contacts}',
    },
  },
} satisfies TemplateSet;
