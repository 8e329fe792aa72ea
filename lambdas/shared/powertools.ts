import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** Structured logs, metrics and traces for every Sluice function; configured by POWERTOOLS_* variables. */
export const logger = new Logger({ serviceName: 'sluice' });
export const metrics = new Metrics({ namespace: 'Sluice', serviceName: 'sluice' });
export const tracer = new Tracer({ serviceName: 'sluice' });

/**
 * Wraps a core function as a Lambda handler: context in every log line, metrics flushed after
 * each invocation, a trace segment per call. Errors pass through unchanged so that their names
 * reach the state machine's Retry and Catch.
 */
export function sluiceHandler<Input, Output>(core: (event: Input, context: Context) => Promise<Output>) {
  return middy(core)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
