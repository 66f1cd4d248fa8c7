import type { TemplateSet } from './template-set';

/** What a complaint tells its user, in every locale. */
export const complaintTemplates = {
  // C1: the case number is given at once.
  'complaint.received': {
    'zh-CN': {
      subject: '我们已收到您的投诉（案件编号 {caseId}）',
      body:
        '您好：\n\n我们已收到您的投诉，案件编号为 {caseId}。\n投诉内容：{summary}\n\n' +
        '我们会尽快答复您。您可随时凭案件编号查询处理进度。',
    },
    en: {
      subject: 'We have received your complaint (case {caseId})',
      body:
        'Hello,\n\nWe have received your complaint. Your case number is {caseId}.\nYour complaint: {summary}\n\n' +
        'We will reply as soon as possible. You can check the progress at any time with your case number.',
    },
  },
  // C3/C4: the first response carries the agent's own words.
  'complaint.acknowledged': {
    'zh-CN': {
      subject: '您的投诉正在处理（案件编号 {caseId}）',
      body: '您好：\n\n关于您的投诉（案件编号 {caseId}），客服人员回复如下：\n\n{message}',
    },
    en: {
      subject: 'Your complaint is being handled (case {caseId})',
      body: 'Hello,\n\nAbout your complaint (case {caseId}), our agent writes:\n\n{message}',
    },
  },
  // C7: the processing result; C10/C11: the user may rate or dispute it.
  'complaint.resolved': {
    'zh-CN': {
      subject: '您的投诉已有处理结果（案件编号 {caseId}）',
      body:
        '您好：\n\n您的投诉（案件编号 {caseId}）处理结果如下：\n\n{message}\n\n' +
        '欢迎对本次处理进行评价；如对结果有异议，可提出申诉。',
    },
    en: {
      subject: 'Your complaint has been resolved (case {caseId})',
      body:
        'Hello,\n\nThe result of your complaint (case {caseId}):\n\n{message}\n\n' +
        'Please rate how we handled it; if you disagree with the result, you can dispute it.',
    },
  },
  'complaint.closed': {
    'zh-CN': {
      subject: '您的投诉已结案（案件编号 {caseId}）',
      body: '您好：\n\n您的投诉（案件编号 {caseId}）已结案。感谢您的反馈。',
    },
    en: {
      subject: 'Your complaint is closed (case {caseId})',
      body: 'Hello,\n\nYour complaint (case {caseId}) is now closed. Thank you for your feedback.',
    },
  },
} satisfies TemplateSet;
