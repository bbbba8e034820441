import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  error: Error | null;
}

/** A crash in one screen shows what happened instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error("PLynx UI error", error, info.componentStack);
  }

  componentDidUpdate(previous: { resetKey?: string }): void {
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  render() {
    if (this.state.error) {
      return (
        <div className="page">
          <div className="message error" role="alert" data-testid="crash">
            <strong>This screen stopped working.</strong> {this.state.error.message}
            <div>
              <button onClick={() => this.setState({ error: null })}>Try again</button>{" "}
              <button onClick={() => window.location.reload()}>Reload the page</button>
            </div>
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}
