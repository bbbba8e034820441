import { useState, type FormEvent } from "react";
import { api, errorMessage } from "../api";
import { Link, navigate } from "../router";

/** Sign in or register; `stay` keeps the current page (a session renewed over unsaved work). */
export function Login({ register, stay = false }: { register: boolean; stay?: boolean }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const closed = api.state.registration === "closed";

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      if (register) {
        const waiting = await api.register(user, password, email);
        if (waiting) {
          // approval mode: the account exists but waits for an admin; nobody is signed in
          setNotice(waiting);
          setPassword("");
          return;
        }
      } else await api.login(user, password);
      if (!stay) navigate(window.location.pathname === "/login" || window.location.pathname === "/register" ? "/" : window.location.pathname, true);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  if (api.state.mode === "single")
    return (
      <div className="page">
        <div className="message">
          This PLynx runs in single-user mode: there is nothing to sign in to. <Link to="/">Open the dashboard</Link>
        </div>
      </div>
    );

  if (register && closed)
    return (
      <div className="page narrow">
        <h1>Create an account</h1>
        <div className="message" role="status">
          Registration is closed on this PLynx: an admin creates accounts. <Link to="/login">Sign in</Link>
        </div>
      </div>
    );

  return (
    <div className={stay ? "" : "page narrow"}>
      <h1>{register ? "Create an account" : "Sign in"}</h1>
      {register && api.state.registration === "approval" && (
        <p className="message">New accounts wait for an admin&apos;s approval before they can sign in.</p>
      )}
      <form className="form" onSubmit={submit}>
        <label>
          User name <input value={user} onChange={(e) => setUser(e.target.value)} autoFocus required name="username" />
        </label>
        {register && (
          <label>
            Email <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} name="email" />
          </label>
        )}
        <label>
          Password{" "}
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            name="password"
            minLength={register ? 8 : undefined}
            autoComplete={register ? "new-password" : "current-password"}
          />
        </label>
        {register && <small className="muted">At least 8 characters.</small>}
        {error && (
          <div className="message error" role="alert">
            {error}
          </div>
        )}
        {notice && (
          <div className="message" role="status" data-testid="registration-pending">
            {notice}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {register ? "Register" : "Sign in"}
        </button>
        {!stay && (
          <p>{register ? <Link to="/login">I have an account</Link> : !closed && <Link to="/register">Create an account</Link>}</p>
        )}
      </form>
    </div>
  );
}
