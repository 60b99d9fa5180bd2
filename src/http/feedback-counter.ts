import { Counter, type Registry } from 'prom-client';

/** A verdict on an answer from a platform's feedback buttons. */
export type FeedbackValue = 'good' | 'bad';

/**
 * `sandbot_answer_feedback_total{platform, value}` on the bot's /metrics: how people rate the
 * answers (Slack's feedback buttons under a streamed answer). Returns the function adapters
 * call (AdapterContext.countFeedback).
 */
export function feedbackCounter(
  registry: Registry,
): (platform: string, value: FeedbackValue) => void {
  const presses = new Counter({
    name: 'sandbot_answer_feedback_total',
    help: 'Feedback buttons pressed under answers, by platform and value (good, bad)',
    labelNames: ['platform', 'value'],
    registers: [registry],
  });
  return (platform, value) => presses.inc({ platform, value });
}
