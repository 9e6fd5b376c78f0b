// The operator's controller runtime, shaped like controller-runtime. Controllers import
// from here.
export * from './backoff.ts';
export * from './cache.ts';
export * from './clock.ts';
export * from './conditions.ts';
export * from './controller.ts';
export * from './discovery.ts';
export * from './error-policy.ts';
export * from './event-handlers.ts';
export * from './events.ts';
export * from './finalizers.ts';
export * from './health-server.ts';
export * from './informer.ts';
export * from './informer-factory.ts';
export * from './kube-http.ts';
export * from './leader-election.ts';
export * from './logger.ts';
export * from './manager.ts';
export * from './metrics.ts';
export * from './object.ts';
export * from './rate-limiter.ts';
export * from './request.ts';
export * from './result.ts';
export * from './status.ts';
export * from './work-queue.ts';
export * from './write-fence.ts';
