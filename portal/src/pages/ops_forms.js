// Small pieces the partner and operator pages share: PUT through the API client, a problem aimed at one input
// of a form (several forms on a page each have their own inputs), and an Idempotency-Key per user action.
import { useRef } from "preact/hooks";
import { ApiError, request } from "../api.js";
import { newKey } from "../ui.js";

export const put = (path, body) => request("PUT", path, { body });

// A problem made here (before asking the API), shaped like the API's: the title, the detail, the field.
export const localProblem = (title, detail, field) => new ApiError(422, { title, detail, field });

// The problem as Field needs it to highlight the input `name` when the API named `apiField` (or a part of it,
// e.g. billing_emails.0). Problem itself keeps the API's field.
export function aimed(error, apiField, name) {
  if (!error || !error.field) return null;
  const f = error.field;
  const hit = f === apiField || f.startsWith(`${apiField}.`) || f.endsWith(`.${apiField}`);
  return hit ? { field: name } : null;
}

// One key per user action: the same action retried (the same body, after a failure) keeps its key, so the API
// replays instead of moving money twice; another body, or the next action after a success, gets a new one.
export function useActionKey() {
  const last = useRef(null);
  return {
    keyFor(body) {
      const text = JSON.stringify(body);
      if (!last.current || last.current.text !== text) last.current = { text, key: newKey() };
      return last.current.key;
    },
    done() { last.current = null; },
  };
}
