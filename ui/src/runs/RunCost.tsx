// What a run cost (GET /runs/{id} `cost`): an estimate from the config's price table, said as one.
import type { RunCost } from "../types";

function usd(value: number): string {
  return value < 0.01 ? `$${value.toFixed(6)}` : `$${value.toFixed(4)}`;
}

export function RunCostFacts({ cost }: { cost: RunCost }) {
  return (
    <p className="muted run-cost" data-testid="run-cost" title="An estimate: durations as recorded, list prices from the config's `costs` table">
      Estimated cost <strong data-testid="run-cost-usd">{usd(cost.estimated_usd)}</strong> &middot; Lambda{" "}
      {cost.lambda_gb_seconds.toFixed(3)} GB-s ({cost.lambda_requests} requests) &middot; Fargate{" "}
      {cost.fargate_vcpu_seconds.toFixed(1)} vCPU-s, {cost.fargate_gb_seconds.toFixed(1)} GB-s &middot;{" "}
      {cost.state_transitions} state transitions
    </p>
  );
}
