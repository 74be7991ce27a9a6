import type { Region } from "../api";

interface Props {
  regions: Region[];
  value: string;
  onChange: (code: string) => void;
}

/** The region of the chart: ALL (global) or one of the api's regions. */
export function RegionSelect({ regions, value, onChange }: Props) {
  const list = regions.some((r) => r.code === value) ? regions : [...regions, { code: value, name: value }];
  return (
    <label className="field">
      <span>Region</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid="region">
        {list.map((r) => (
          <option key={r.code} value={r.code}>
            {r.name === r.code ? r.code : `${r.name} (${r.code})`}
          </option>
        ))}
      </select>
    </label>
  );
}
