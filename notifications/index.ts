// Customer notifications: the outbox (queued in the step's transaction), the dispatcher that
// delivers it, and the mail channel. The inbox channel is the outbox table itself.
export { enqueueNotification, enqueueNotificationBatch, notificationRows, type BatchNotificationRequest, type EnqueueResult } from './outbox';
export { createDispatcher, messageIdFor, type Dispatcher, type DispatcherDeps, type DispatcherLog } from './dispatcher';
export { createMailer, type Mailer, type OutgoingMail } from './mailer';
export { outboxChannel, type NotificationChannel } from '../db/notifications';
