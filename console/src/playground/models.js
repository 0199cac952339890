// Which models the playground offers: those /v1/models lists for the signed-in key.

import { useEffect, useState } from 'preact/hooks';
import { models } from '../api.js';

/** Every model id the key may use (`[preferred]` until the list is there), and the error
 * if it could not be read. */
export function useModels(preferred) {
  const [list, setList] = useState([preferred]);
  const [error, setError] = useState(null);
  useEffect(() => {
    models().then((ids) => setList(ids.length ? ids : [preferred]), setError);
  }, []);
  return [list, error];
}

/** Of a tab's `candidates`, those the key may use (all of them if it may use none: the
 * server then says why); `choose` moves the selection to the first of them if `selected`
 * is not one. */
export function useAllowed(candidates, selected, choose) {
  const [allowed, setAllowed] = useState(candidates);
  useEffect(() => {
    models().then((ids) => {
      const usable = candidates.filter((name) => ids.includes(name));
      const list = usable.length ? usable : candidates;
      setAllowed(list);
      if (!list.includes(selected)) choose(list[0]);
    }, () => {}); // the chat tab shows why the list could not be read
  }, []);
  return allowed;
}
