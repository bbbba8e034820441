import { useEffect, useRef, useState } from "react";
import { api, errorMessage, type ConnectionState } from "./api";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Link, match, navigate, useLocation } from "./router";
import { Dashboard } from "./pages/Dashboard";
import { GraphList, OperationList, FileList, RunList } from "./pages/Lists";
import { GraphEditor } from "./pages/GraphEditor";
import { OperationEditor } from "./pages/OperationEditor";
import { Login } from "./pages/Login";
import { RunView } from "./pages/RunView";
import { RunCompare } from "./pages/RunCompare";
import { Users } from "./pages/Users";

type Boot = { phase: "loading" } | { phase: "ready" } | { phase: "failed"; message: string };

export function useConnection(): ConnectionState {
  const [state, setState] = useState(api.state);
  useEffect(() => api.subscribe(setState), []);
  return state;
}

export function App() {
  const [boot, setBoot] = useState<Boot>({ phase: "loading" });
  const connection = useConnection();
  const location = useLocation();
  const hadUser = useRef(false);

  const start = async () => {
    setBoot({ phase: "loading" });
    try {
      if (!api.base) await api.configure();
    } catch (error) {
      setBoot({ phase: "failed", message: `The UI could not read its configuration: ${errorMessage(error)}` });
      return;
    }
    try {
      await api.start();
    } catch {
      // API down: the shell still renders, with the banner that says so.
    }
    setBoot({ phase: "ready" });
  };

  useEffect(() => {
    void start();
  }, []);

  if (boot.phase === "loading") return <div className="page">Loading PLynx&hellip;</div>;
  if (boot.phase === "failed")
    return (
      <div className="page">
        <div className="message error" role="alert">
          {boot.message} <button onClick={() => void start()}>Retry</button>
        </div>
      </div>
    );

  const needsLogin = connection.mode === "multi" && !connection.user;
  const onAuthPage = location.path === "/login" || location.path === "/register";
  if (connection.user) hadUser.current = true;
  // A session that ends while the user works (its refresh token expired too) asks for the login on
  // top of the page, so the unsaved work underneath stays.
  const relogin = needsLogin && hadUser.current && !onAuthPage;

  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          PLynx
        </Link>
        <nav>
          <Link to="/" className={location.path === "/" ? "active" : ""}>Dashboard</Link>
          <Link to="/graphs" className={location.path.startsWith("/graphs") ? "active" : ""}>Workflows</Link>
          <Link to="/nodes" className={location.path.startsWith("/nodes") ? "active" : ""}>Operations</Link>
          <Link to="/files" className={location.path.startsWith("/files") ? "active" : ""}>Files</Link>
          <Link to="/runs" className={location.path.startsWith("/runs") ? "active" : ""}>Runs</Link>
          {connection.mode === "multi" && connection.admin && (
            <Link to="/users" className={location.path.startsWith("/users") ? "active" : ""}>Users</Link>
          )}
        </nav>
        <div className="spacer" />
        <span className="user" data-testid="user">
          {connection.user ?? ""}
          {connection.mode === "single" ? " (single-user)" : ""}
        </span>
        {connection.mode === "multi" && connection.user && (
          <button
            className="link"
            onClick={() => {
              hadUser.current = false;
              api.logout();
              navigate("/login");
            }}
          >
            Log out
          </button>
        )}
      </header>
      {connection.down && (
        <div className="banner error" role="alert" data-testid="api-down">
          {connection.down}{" "}
          <button onClick={() => void start()}>Retry</button>
        </div>
      )}
      <main>
        <ErrorBoundary resetKey={location.path}>
          {(needsLogin && !relogin) || onAuthPage ? (
            <Login register={location.path === "/register"} />
          ) : (
            <Routes path={location.path} query={location.query} />
          )}
          {relogin && (
            <div className="modal" role="dialog" aria-label="Sign in again">
              <div className="modal-body narrow-modal">
                <p className="message">Your session has ended. Sign in again to go on: your unsaved changes are kept.</p>
                <Login register={false} stay />
              </div>
            </div>
          )}
        </ErrorBoundary>
      </main>
    </div>
  );
}

function Routes({ path, query }: { path: string; query: URLSearchParams }) {
  let params: Record<string, string> | null;
  if (path === "/") return <Dashboard />;
  if (path === "/graphs") return <GraphList />;
  if (path === "/runs") return <RunList />;
  if (path === "/nodes") return <OperationList />;
  if (path === "/files") return <FileList />;
  if (path === "/users") return <Users />;
  if ((params = match("/graphs/:id", path))) return <GraphEditor key={params.id} graphId={params.id} />;
  if ((params = match("/runs/:id/compare/:other", path)))
    return <RunCompare key={path} runId={params.id} otherId={params.other} />;
  if ((params = match("/runs/:id", path))) return <RunView key={params.id} runId={params.id} />;
  if ((params = match("/files/:id", path))) return <OperationEditor key={params.id} nodeId={params.id} kind={null} />;
  if ((params = match("/nodes/:id", path)))
    return <OperationEditor key={params.id + (query.get("kind") ?? "")} nodeId={params.id} kind={query.get("kind")} />;
  return (
    <div className="page">
      <div className="message">
        Nothing here: <code>{path}</code>. <Link to="/">Go to the dashboard</Link>
      </div>
    </div>
  );
}
