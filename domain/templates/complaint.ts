import type { TemplateSet } from './template-set';

/** What a complaint tells its user, in every locale. */
export const complaintTemplates = {
  // C1: the case number is given at once.
  'complaint.received': {
    'zh-CN': {
      subject: '我们已收到您的投诉（案件编号 {caseId}）',
      body: '您好：\n\n我们已收到您的投诉，案件编号为 {caseId}。\n投诉内容：{summary}\n\n' + '我们会尽快答复您。您可随时凭案件编号查询处理进度。',
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
      body: '您好：\n\n关于您的投诉（案件编号 {caseId}），客服人员回复如下：\n\n{message}\n\n问题：{problem}\n处理步骤：{steps}\n预计完成时间：{expectedCompletion}',
    },
    en: {
      subject: 'Your complaint is being handled (case {caseId})',
      body: 'Hello,\n\nAbout your complaint (case {caseId}), our agent writes:\n\n{message}\n\nThe problem as we understand it: {problem}\nWhat we are doing: {steps}\nExpected completion: {expectedCompletion}',
    },
  },
  // C7: the processing result; C10/C11: the user may rate or dispute it.
  'complaint.resolved': {
    'zh-CN': {
      subject: '您的投诉已有处理结果（案件编号 {caseId}）',
      body:
        '您好：\n\n您的投诉（案件编号 {caseId}）处理结果如下：\n\n{message}\n\n问题：{problem}\n处理步骤：{steps}\n预计完成时间：{expectedCompletion}\n\n' +
        '欢迎对本次处理进行评价；如对结果有异议，可提出申诉。',
    },
    en: {
      subject: 'Your complaint has been resolved (case {caseId})',
      body:
        'Hello,\n\nThe result of your complaint (case {caseId}):\n\n{message}\n\nThe problem as we understand it: {problem}\nWhat we are doing: {steps}\nExpected completion: {expectedCompletion}\n\n' +
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
  // C14: a user who has not answered is reminded once, then the case closes with a notice.
  'complaint.info-reminder': {
    'zh-CN': {
      subject: '提醒：请补充投诉信息（案件编号 {caseId}）',
      body: '您好：\n\n我们仍在等待您补充以下信息，以便继续处理您的投诉（案件编号 {caseId}）：\n\n{message}\n\n如在提出请求后 {days} 天内仍未收到回复，本案件将结案。',
    },
    en: {
      subject: 'Reminder: we need more information (case {caseId})',
      body: 'Hello,\n\nWe are still waiting for the following to continue with your complaint (case {caseId}):\n\n{message}\n\nIf we have no answer within {days} days of our request, the case will be closed.',
    },
  },
  'complaint.closed-unanswered': {
    'zh-CN': {
      subject: '您的投诉已结案（案件编号 {caseId}）',
      body: '您好：\n\n由于 {days} 天内未收到您补充的信息，您的投诉（案件编号 {caseId}）已结案。如仍需处理，欢迎随时重新提出投诉。',
    },
    en: {
      subject: 'Your complaint is closed (case {caseId})',
      body: 'Hello,\n\nWe did not hear back from you within {days} days, so your complaint (case {caseId}) is closed. You are welcome to complain again at any time.',
    },
  },
  // The clocks pause until the user answers.
  'complaint.info-requested': {
    'zh-CN': {
      subject: '请补充投诉信息（案件编号 {caseId}）',
      body: '您好：\n\n为处理您的投诉（案件编号 {caseId}），我们需要您补充以下信息：\n\n{message}\n\n收到您的回复后我们将继续处理。',
    },
    en: {
      subject: 'We need more information about your complaint (case {caseId})',
      body: 'Hello,\n\nTo handle your complaint (case {caseId}) we need the following from you:\n\n{message}\n\nWe will continue as soon as you answer.',
    },
  },
  // C6: the preliminary finding.
  'complaint.preliminary': {
    'zh-CN': {
      subject: '您的投诉初步调查结果（案件编号 {caseId}）',
      body: '您好：\n\n您的投诉（案件编号 {caseId}）初步调查结果如下：\n\n{message}\n\n问题：{problem}\n处理步骤：{steps}\n预计完成时间：{expectedCompletion}\n\n我们将继续处理并尽快给出最终处理结果。',
    },
    en: {
      subject: 'Preliminary finding on your complaint (case {caseId})',
      body: 'Hello,\n\nThe preliminary finding on your complaint (case {caseId}):\n\n{message}\n\nThe problem as we understand it: {problem}\nWhat we are doing: {steps}\nExpected completion: {expectedCompletion}\n\nWe will give you the final result as soon as possible.',
    },
  },
  // C11: the outcome of platform arbitration.
  'complaint.arbitrated': {
    'zh-CN': {
      subject: '您的申诉已有仲裁结果（案件编号 {caseId}）',
      body: '您好：\n\n关于您对投诉（案件编号 {caseId}）处理结果的申诉，平台仲裁结果为：{message}\n\n如仍有异议，您可向第三方机构（如行业协会）申请调解。',
    },
    en: {
      subject: 'Arbitration of your dispute (case {caseId})',
      body: 'Hello,\n\nAbout your dispute of the result of complaint {caseId}, the platform decided: {message}\n\nIf you still disagree, you may refer it to a third party such as the industry association.',
    },
  },
  'complaint.referred': {
    'zh-CN': {
      subject: '您的投诉已提交第三方（案件编号 {caseId}）',
      body: '您好：\n\n您的投诉（案件编号 {caseId}）已提交至 {message}。',
    },
    en: {
      subject: 'Your complaint was referred to a third party (case {caseId})',
      body: 'Hello,\n\nYour complaint (case {caseId}) was referred to {message}.',
    },
  },
  // C12
  'complaint.reopened': {
    'zh-CN': {
      subject: '您的投诉已重新受理（案件编号 {caseId}）',
      body: '您好：\n\n您的投诉（案件编号 {caseId}）已重新受理，我们将重新调查并给出处理结果。',
    },
    en: {
      subject: 'Your complaint is reopened (case {caseId})',
      body: 'Hello,\n\nYour complaint (case {caseId}) is reopened; we will investigate again and give you a new result.',
    },
  },
  'complaint.withdrawn': {
    'zh-CN': {
      subject: '您的投诉已撤回（案件编号 {caseId}）',
      body: '您好：\n\n您的投诉（案件编号 {caseId}）已按您的要求撤回。',
    },
    en: {
      subject: 'Your complaint is withdrawn (case {caseId})',
      body: 'Hello,\n\nYour complaint (case {caseId}) was withdrawn as you asked.',
    },
  },
} satisfies TemplateSet;
