// The selection, in the URL: changes push a history entry, Back restores.
import { useCallback, useEffect, useState } from "react";
import { formatSelection, parseSelection, type Selection } from "./selection";

export function useSelection(): [Selection, (s: Selection) => void] {
  const [sel, setSel] = useState<Selection>(() => parseSelection(window.location.search));

  useEffect(() => {
    const onPop = () => setSel(parseSelection(window.location.search));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const update = useCallback((s: Selection) => {
    const url = formatSelection(s);
    if (url !== window.location.search) window.history.pushState(null, "", url);
    setSel(s);
  }, []);

  return [sel, update];
}
