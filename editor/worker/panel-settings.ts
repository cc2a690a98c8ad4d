/**
 * The Train panel's settings through the session's resolver
 * (src/session/settings.ts), the one place the rules live: the panel's
 * defaults are the resolver's base values for the graph, and the panel's
 * fields reach the resolver as overrides where they differ from those
 * defaults (so each value keeps its reason: graph metadata, default or the
 * user's). Pure, so the page uses it too.
 */
import type { GraphDoc } from '../../src/graph/types.ts';
import { resolveBase, valuesOf, type SettingsOverrides } from '../../src/session/settings.ts';
import type { TrainPanelSettings } from './protocol.ts';

/** The panel's defaults: the graph's metadata.training, else the session's defaults. */
export function panelDefaults(doc: GraphDoc | undefined): TrainPanelSettings {
  const base = valuesOf(resolveBase(doc?.metadata?.training));
  return { ...base, steps: 0, valEvery: 0 };
}

/**
 * The panel's fields as overrides: those the user changed from the defaults;
 * steps 0 means "by epochs" and valEvery 0 "once per epoch" (not set).
 */
export function panelOverrides(
  p: TrainPanelSettings,
  doc: GraphDoc | undefined,
): SettingsOverrides {
  const defaults = panelDefaults(doc);
  const o: SettingsOverrides = {};
  const keys = [
    'epochs',
    'batchSize',
    'learningRate',
    'optimizer',
    'seed',
    'convention',
    'augment',
  ] as const;
  for (const k of keys) if (p[k] !== defaults[k]) Object.assign(o, { [k]: p[k] });
  if (p.epochs < 1) o.epochs = 1;
  if (p.steps > 0) o.steps = p.steps;
  if (p.valEvery > 0) o.valEvery = p.valEvery;
  return o;
}
