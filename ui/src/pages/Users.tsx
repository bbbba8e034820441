// Admins only: every user (pending ones first), approve, activate or deactivate, edit policies, and
// create accounts (the only way in when registration is closed). The API checks IS_ADMIN on each call.
import { useEffect, useState, type FormEvent } from "react";
import { api, errorMessage, type UserRecord, type UsersView } from "../api";

function status(user: UserRecord): string {
  if (user.pending) return "Pending approval";
  return user.active ? "Active" : "Deactivated";
}

export function Users() {
  const [view, setView] = useState<UsersView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [pendingOnly, setPendingOnly] = useState(false);
  const [editing, setEditing] = useState<{ username: string; policies: string[] } | null>(null);

  const load = async () => {
    try {
      setView(await api.usersView());
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  useEffect(() => {
    void load();
  }, []);

  /** One admin action, then the list again (the server's answer is the truth). */
  const act = async (what: string, action: () => Promise<unknown>) => {
    setNotice(null);
    try {
      await action();
      setNotice(what);
      setError(null);
      await load();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  if (!view)
    return (
      <div className="page" data-testid="users">
        <h1>Users</h1>
        {error ? (
          <div className="message error" role="alert">
            {error} <button onClick={() => void load()}>Retry</button>
          </div>
        ) : (
          <p>Loading&hellip;</p>
        )}
      </div>
    );

  const shown = pendingOnly ? view.users.filter((user) => user.pending) : view.users;
  const waiting = view.users.filter((user) => user.pending).length;
  return (
    <div className="page" data-testid="users">
      <div className="page-head">
        <h1>Users</h1>
        <span className="muted" data-testid="registration-mode">
          Registration: {view.registration}
        </span>
        <div className="spacer" />
        <label className={`chip ${pendingOnly ? "on" : ""}`}>
          <input type="checkbox" checked={pendingOnly} onChange={() => setPendingOnly(!pendingOnly)} />
          Pending only ({waiting})
        </label>
      </div>
      {error && (
        <div className="message error" role="alert">
          {error}
        </div>
      )}
      {notice && (
        <div className="message success" role="status">
          {notice}
        </div>
      )}
      <table className="list">
        <thead>
          <tr>
            <th>User</th>
            <th>Email</th>
            <th>Status</th>
            <th>Policies</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.map((user) => (
            <UserRow
              key={user.username}
              user={user}
              known={view.known_policies}
              editing={editing?.username === user.username ? editing.policies : null}
              onEdit={(policies) => setEditing(policies ? { username: user.username, policies } : null)}
              act={act}
            />
          ))}
          {shown.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                {pendingOnly ? "Nobody is waiting for approval." : "No users."}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <NewUser known={view.known_policies} defaults={view.default_policies} act={act} />
    </div>
  );
}

interface RowProps {
  user: UserRecord;
  known: string[];
  editing: string[] | null;
  onEdit: (policies: string[] | null) => void;
  act: (what: string, action: () => Promise<unknown>) => Promise<void>;
}

function UserRow({ user, known, editing, onEdit, act }: RowProps) {
  const me = api.state.user === user.username;
  return (
    <>
      <tr data-testid={`user-${user.username}`}>
        <td>
          <strong>{user.username}</strong>
          {user.display_name !== user.username && <span className="muted"> {user.display_name}</span>}
        </td>
        <td>{user.email ?? ""}</td>
        <td data-testid="status">{status(user)}</td>
        <td className="muted">{user.policies.join(", ") || "none"}</td>
        <td>
          {user.pending && (
            <button className="primary" onClick={() => void act(`${user.username} approved`, () => api.approveUser(user.username))}>
              Approve
            </button>
          )}{" "}
          {!me &&
            (user.active ? (
              <button onClick={() => void act(`${user.username} deactivated; their tokens are revoked`, () => api.changeUser(user.username, { active: false }))}>
                Deactivate
              </button>
            ) : (
              <button onClick={() => void act(`${user.username} activated`, () => api.changeUser(user.username, { active: true }))}>Activate</button>
            ))}{" "}
          <button onClick={() => onEdit(editing ? null : user.policies)}>{editing ? "Close" : "Policies"}</button>
        </td>
      </tr>
      {editing && (
        <tr>
          <td colSpan={5}>
            <PolicyPicker known={known} chosen={editing} onChange={onEdit} label={`Policies of ${user.username}`} />
            <button
              className="primary"
              onClick={() =>
                void act(`${user.username}'s policies saved`, async () => {
                  await api.changeUser(user.username, { policies: editing });
                  onEdit(null);
                })
              }
            >
              Save policies
            </button>
          </td>
        </tr>
      )}
    </>
  );
}

function PolicyPicker({ known, chosen, onChange, label }: { known: string[]; chosen: string[]; onChange: (p: string[]) => void; label: string }) {
  return (
    <fieldset className="filters" aria-label={label}>
      {known.map((policy) => (
        <label key={policy} className={`chip ${chosen.includes(policy) ? "on" : ""}`}>
          <input
            type="checkbox"
            checked={chosen.includes(policy)}
            onChange={() => onChange(chosen.includes(policy) ? chosen.filter((p) => p !== policy) : [...chosen, policy].sort())}
          />
          {policy}
        </label>
      ))}
    </fieldset>
  );
}

function NewUser({ known, defaults, act }: { known: string[]; defaults: string[]; act: RowProps["act"] }) {
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [policies, setPolicies] = useState<string[]>([...defaults].sort());

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void act(`${username} created`, async () => {
      await api.createUser({ username, password, policies, ...(email ? { email } : {}) });
      setUsername("");
      setEmail("");
      setPassword("");
    });
  };

  return (
    <form className="form" onSubmit={submit} aria-label="Create a user">
      <h2>Create a user</h2>
      <label>
        New user name <input value={username} onChange={(e) => setUsername(e.target.value)} required name="new-username" />
      </label>
      <label>
        New user email <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} name="new-email" />
      </label>
      <label>
        New user password{" "}
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} name="new-password" autoComplete="new-password" />
      </label>
      <PolicyPicker known={known} chosen={policies} onChange={setPolicies} label="Policies of the new user" />
      <button type="submit" className="primary">
        Create user
      </button>
    </form>
  );
}
