import type { Period } from "../api";

interface Props {
  value: Period;
  onChange: (p: Period) => void;
}

const PERIODS: { value: Period; label: string }[] = [
  { value: "hour", label: "Hour" },
  { value: "day", label: "Day" },
];

/** Hour or day chart: a pair of radio-like buttons. */
export function PeriodToggle({ value, onChange }: Props) {
  return (
    <div className="toggle" role="radiogroup" aria-label="Period">
      {PERIODS.map((p) => (
        <button
          key={p.value}
          type="button"
          role="radio"
          aria-checked={value === p.value}
          className={value === p.value ? "on" : ""}
          onClick={() => onChange(p.value)}
          data-testid={`period-${p.value}`}
        >
          {p.label}
        </button>
      ))}
    </div>
  );
}
