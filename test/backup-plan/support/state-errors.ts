/**
 * The error `parseState` throws for a text it must refuse, for the tests of the state's shape. Not a test file.
 */
import { parseState, StateError } from '../../../lib/backup-plan/state';

/** Where the tests' state lives (quoted in every error). */
export const STATE_WHERE = 's3://exports/state/orders/plan-1/plan.json';

/** The StateError `parseState` throws for `text`; fails the test when it accepts the text or throws anything else. */
export function stateErrorOf(text: string | undefined): StateError {
  try {
    parseState(text, STATE_WHERE);
  } catch (e) {
    expect(e).toBeInstanceOf(StateError);
    return e as StateError;
  }
  throw new Error(`parseState accepted ${text}`);
}
