import { useState, type FormEvent } from "react";
import { api, errorMessage } from "../api";
import { Link, navigate } from "../router";

/** Sign in or register; `stay` keeps the current page (a session renewed over unsaved work). */
export function Login({ register, stay = false }: { register: boolean; stay?: boolean }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (register) await api.register(user, password, email);
      else await api.login(user, password);
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

  return (
    <div className={stay ? "" : "page narrow"}>
      <h1>{register ? "Create an account" : "Sign in"}</h1>
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
          Password <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} name="password" />
        </label>
        {error && (
          <div className="message error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {register ? "Register" : "Sign in"}
        </button>
        {!stay && <p>{register ? <Link to="/login">I have an account</Link> : <Link to="/register">Create an account</Link>}</p>}
      </form>
    </div>
  );
}
