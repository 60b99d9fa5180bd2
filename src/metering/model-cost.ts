import type { UsageSettings } from '../core/usage-settings.ts';

/** The cost of a model's tokens by MODEL_PRICES; 0 when the model has no price. */
export function modelCost(
  prices: UsageSettings['prices'],
  model: string,
  tokens: { readonly promptTokens: number; readonly completionTokens: number },
): number {
  const price = prices[model];
  if (price === undefined) return 0;
  return (
    (tokens.promptTokens * price.inputPerMillion +
      tokens.completionTokens * price.outputPerMillion) /
    1_000_000
  );
}
