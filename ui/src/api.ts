// The REST client: runtime config, auth (single-user or tokens with refresh), and errors that say
// what happened in words a user can act on.

import type {
  Graph,
  GraphHeader,
  PlynxNode,
  PostResponse,
  ResourcesDict,
  Run,
  RunComparison,
  Schedule,
  SearchResponse,
} from "./types";

export interface RuntimeConfig {
  api_url: string;
}

/** An API failure: `kind` tells the UI whether the API is down, the endpoint missing, or the input bad. */
export class ApiError extends Error {
  status: number;
  kind: "network" | "http" | "unavailable" | "auth";
  constructor(message: string, status: number, kind: ApiError["kind"]) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

type Listener = (state: ConnectionState) => void;

export interface ConnectionState {
  /** Set while the last request could not reach the API at all. */
  down: string | null;
  /** "single" when the API lets a bare request in as `default`, "multi" when it asks for a login. */
  mode: "unknown" | "single" | "multi";
  user: string | null;
  /** The signed-in user holds IS_ADMIN in multi-user mode (the Users view is theirs). */
  admin: boolean;
  /** Who may join (GET /health): "open", "approval" or "closed". */
  registration: string | null;
}

/** A user as GET /users lists them (admins see every field). */
export interface UserRecord {
  username: string;
  display_name: string;
  email: string | null;
  active: boolean;
  pending: boolean;
  policies: string[];
  insertion_date: string;
}

export interface UsersView {
  users: UserRecord[];
  known_policies: string[];
  default_policies: string[];
  registration: string;
}

const TOKENS_KEY = "plynx.tokens";

interface Tokens {
  access_token: string;
  refresh_token: string;
  user: string;
}

function basic(user: string, password: string): string {
  return "Basic " + btoa(unescape(encodeURIComponent(`${user}:${password}`)));
}

function decodeSubject(token: string): string | null {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload));
    return typeof claims.sub === "string" ? claims.sub : null;
  } catch {
    return null;
  }
}

class Client {
  base = "";
  resourcesDict: ResourcesDict = {};
  state: ConnectionState = { down: null, mode: "unknown", user: null, admin: false, registration: null };
  private listeners = new Set<Listener>();
  private tokens: Tokens | null = null;
  private refreshing: Promise<boolean> | null = null;

  constructor() {
    try {
      const raw = localStorage.getItem(TOKENS_KEY);
      this.tokens = raw ? (JSON.parse(raw) as Tokens) : null;
    } catch {
      this.tokens = null;
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(patch: Partial<ConnectionState>): void {
    const next = { ...this.state, ...patch };
    const same = (Object.keys(next) as (keyof ConnectionState)[]).every((key) => next[key] === this.state[key]);
    if (same) return;
    this.state = next;
    this.listeners.forEach((listener) => listener(next));
  }

  /** Read /config.json (written next to the site) for the API base URL. */
  async configure(): Promise<void> {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`/config.json answered HTTP ${response.status}`);
    const config = (await response.json()) as RuntimeConfig;
    if (!config.api_url) throw new Error("/config.json has no api_url");
    this.base = config.api_url.replace(/\/+$/, "");
  }

  private saveTokens(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (tokens) localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    else localStorage.removeItem(TOKENS_KEY);
  }

  private authHeader(): Record<string, string> {
    if (this.tokens) return { Authorization: `Bearer ${this.tokens.access_token}` };
    // Single-user mode: the seed's `-u default:` (Basic ZGVmYXVsdDo=).
    return this.state.mode === "single" ? { Authorization: basic(this.state.user ?? "default", "") } : {};
  }

  /** Find out the mode from /health: single-user signs every request as `default:` (the API wants the
   * header even then, so that no other web page can use it); multi-user wants a login. */
  async start(): Promise<void> {
    const health = await this.raw("GET", "/health", undefined, {});
    if (health?.single_user) {
      const body = await this.raw("GET", "/token", undefined, { Authorization: basic("default", "") });
      this.saveTokens(null);
      this.setState({ mode: "single", user: decodeSubject(body.access_token) ?? "default" });
      return;
    }
    this.setState({ mode: "multi", registration: typeof health?.registration === "string" ? health.registration : null });
    if (!this.tokens) return;
    try {
      // An access token cannot renew itself at /token: check the session with GET /user (a 401 refreshes).
      await this.whoAmI();
    } catch (error) {
      if (!(error instanceof ApiError) || error.kind !== "auth") throw error;
    }
  }

  /** The signed-in user and whether they are an admin. */
  private async whoAmI(): Promise<void> {
    const body = await this.request("GET", "/user");
    const policies: string[] = body?.user?.policies ?? [];
    this.setState({ user: body?.user?.username ?? this.tokens?.user ?? null, admin: policies.includes("IS_ADMIN") });
  }

  async login(user: string, password: string): Promise<void> {
    const body = await this.raw("GET", "/token", undefined, { Authorization: basic(user, password) });
    this.saveTokens({ access_token: body.access_token, refresh_token: body.refresh_token, user });
    this.setState({ mode: "multi" });
    await this.whoAmI();
  }

  /** Register; in `approval` mode the account waits for an admin: the answer's message is returned, nobody signs in. */
  async register(user: string, password: string, email: string): Promise<string | null> {
    const body = await this.raw("POST", "/register", { username: user, password, ...(email ? { email } : {}) }, {}, "Registration");
    if (body?.pending) return String(body.message ?? "Your account awaits an admin's approval.");
    if (body?.access_token) {
      this.saveTokens({ access_token: body.access_token, refresh_token: body.refresh_token, user });
      this.setState({ mode: "multi" });
      await this.whoAmI();
      return null;
    }
    await this.login(user, password);
    return null;
  }

  logout(): void {
    this.saveTokens(null);
    this.setState({ user: this.state.mode === "single" ? "default" : null, admin: false });
  }

  /** Swap the refresh token for new tokens (once at a time); the page and its unsaved work stay. */
  private async refresh(): Promise<boolean> {
    if (!this.tokens) return false;
    if (!this.refreshing) {
      const tokens = this.tokens;
      this.refreshing = this.raw("GET", "/token", undefined, { Authorization: basic(tokens.refresh_token, "") })
        .then((body) => {
          this.saveTokens({ ...tokens, access_token: body.access_token, refresh_token: body.refresh_token ?? tokens.refresh_token });
          return true;
        })
        .catch(() => false)
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async raw(method: string, path: string, body: unknown, headers: Record<string, string>, feature?: string): Promise<any> {
    const url = this.base + path;
    let response: Response;
    try {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)["Content-Type"] = "application/json";
      }
      response = await fetch(url, init);
    } catch {
      const message = `Cannot reach the PLynx API at ${this.base || "(no api_url)"}. Is the server running? Your changes are kept in this page.`;
      this.setState({ down: message });
      throw new ApiError(message, 0, "network");
    }
    this.setState({ down: null });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (response.ok) return parsed;
    const message =
      (parsed && typeof parsed === "object" && ((parsed as { Message?: string }).Message || (parsed as { message?: string }).message)) ||
      text.slice(0, 300) ||
      response.statusText;
    if (response.status === 401) throw new ApiError(String(message), 401, "auth");
    const routeMissing =
      // API Gateway (and chalice local) answer a route that does not exist with a 403 like these.
      ((response.status === 403 || response.status === 404) && /Missing Authentication Token|Authorization header requires/i.test(String(message))) ||
      (response.status === 404 && !(parsed && typeof parsed === "object" && "Code" in parsed)) ||
      response.status === 405;
    if (routeMissing) {
      throw new ApiError(
        `${feature ?? `${method} ${path.split("?")[0]}`} is not available on this server yet (HTTP ${response.status}).`,
        response.status,
        "unavailable",
      );
    }
    throw new ApiError(String(message), response.status, "http");
  }

  /** A request with the session's credentials; a 401 refreshes the token once and retries. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async request(method: string, path: string, body?: unknown, feature?: string): Promise<any> {
    try {
      return await this.raw(method, path, body, this.authHeader(), feature);
    } catch (error) {
      if (error instanceof ApiError && error.kind === "auth" && this.tokens && (await this.refresh())) {
        return this.raw(method, path, body, this.authHeader(), feature);
      }
      if (error instanceof ApiError && error.kind === "auth" && this.state.mode === "multi") {
        this.saveTokens(null);
        this.setState({ user: null, admin: false });
      }
      throw error;
    }
  }

  // --- users (admins) ---------------------------------------------------------------------------

  usersView(): Promise<UsersView> {
    return this.request("GET", "/users", undefined, "The users view");
  }

  async createUser(user: { username: string; password: string; email?: string; policies: string[] }): Promise<UserRecord> {
    return (await this.request("POST", "/users", user, "Creating users")).user;
  }

  async approveUser(username: string): Promise<UserRecord> {
    return (await this.request("POST", `/users/${encodeURIComponent(username)}/approve`, undefined, "Approving users")).user;
  }

  /** An admin's change of another user: `active`, `policies` (POST /user). */
  async changeUser(username: string, change: { active?: boolean; policies?: string[] }): Promise<UserRecord> {
    return (await this.request("POST", "/user", { user: { username, ...change } })).user;
  }

  // --- graphs -----------------------------------------------------------------------------------

  async getGraph(id: string): Promise<Graph> {
    const body = await this.request("GET", `/graphs/${encodeURIComponent(id)}`);
    if (body.resources_dict) this.resourcesDict = body.resources_dict;
    return body.data as Graph;
  }

  /** `parameters`: a run's values of the workflow's run parameters (`<node_id>.<name>`), with APPROVE. */
  postGraph(graph: Graph, actions: string[], parameters?: Record<string, unknown>): Promise<PostResponse> {
    return this.request("POST", "/graphs", parameters ? { graph, actions, parameters } : { graph, actions }, `The ${actions.join("+")} action`);
  }

  graphAction(id: string, action: string): Promise<PostResponse> {
    return this.request("POST", `/graphs/${encodeURIComponent(id)}/${action}`, undefined, `POST /graphs/{id}/${action}`);
  }

  searchGraphs(query: SearchQuery): Promise<SearchResponse<GraphHeader>> {
    return this.request("POST", "/search_graphs", query);
  }

  // --- runs -------------------------------------------------------------------------------------

  graphRuns(graphId: string, offset = 0, perPage = 20): Promise<{ items: Run[]; total_count: number }> {
    return this.request("GET", `/graphs/${encodeURIComponent(graphId)}/runs?offset=${offset}&per_page=${perPage}`);
  }

  async getRun(runId: string): Promise<Run> {
    const body = await this.request("GET", `/runs/${encodeURIComponent(runId)}`);
    if (body.resources_dict) this.resourcesDict = body.resources_dict;
    return body.data as Run;
  }

  async retryRun(runId: string): Promise<Run> {
    return (await this.request("POST", `/runs/${encodeURIComponent(runId)}/retry`, undefined, "Retrying a run")).data as Run;
  }

  async compareRuns(runId: string, otherId: string): Promise<RunComparison> {
    const path = `/runs/${encodeURIComponent(runId)}/compare/${encodeURIComponent(otherId)}`;
    return (await this.request("GET", path)).data as RunComparison;
  }

  async cancelRun(runId: string): Promise<Run> {
    return (await this.request("POST", `/runs/${encodeURIComponent(runId)}/cancel`, undefined, "Cancelling a run")).data as Run;
  }

  // --- schedules --------------------------------------------------------------------------------

  graphSchedules(graphId: string): Promise<{ items: Schedule[]; total_count: number; max_schedules: number }> {
    return this.request("GET", `/graphs/${encodeURIComponent(graphId)}/schedules`, undefined, "Schedules");
  }

  async addSchedule(graphId: string, body: { expression: string; timezone: string; parameters?: Record<string, unknown>; enabled?: boolean }): Promise<Schedule> {
    return (await this.request("POST", `/graphs/${encodeURIComponent(graphId)}/schedules`, body, "Schedules")).data as Schedule;
  }

  async updateSchedule(scheduleId: string, change: Partial<Pick<Schedule, "expression" | "timezone" | "parameters" | "enabled">>): Promise<Schedule> {
    return (await this.request("PATCH", `/schedules/${encodeURIComponent(scheduleId)}`, change, "Schedules")).data as Schedule;
  }

  async deleteSchedule(scheduleId: string): Promise<void> {
    await this.request("DELETE", `/schedules/${encodeURIComponent(scheduleId)}`, undefined, "Schedules");
  }

  // --- nodes ------------------------------------------------------------------------------------

  async getNode(id: string): Promise<PlynxNode> {
    const body = await this.request("GET", `/nodes/${encodeURIComponent(id)}`);
    if (body.resources_dict) this.resourcesDict = body.resources_dict;
    return body.data as PlynxNode;
  }

  postNode(node: PlynxNode, action: string, options: { make_successor?: boolean } = {}): Promise<PostResponse> {
    return this.request("POST", "/nodes", { node, action, ...options }, `The ${action} action`);
  }

  /** ARCHIVE, RESTORE or DELETE a stored graph or node (operation, file) by id (chalicelib/api/lifecycle.py). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  lifecycle(kind: "graphs" | "nodes", id: string, action: "archive" | "restore" | "delete"): Promise<any> {
    return this.request("POST", `/${kind}/${encodeURIComponent(id)}/${action}`, {}, `The ${action} action`);
  }

  async searchNodes(query: SearchQuery): Promise<SearchResponse<PlynxNode>> {
    const body = await this.request("POST", "/search_nodes", query);
    if (body.resources_dict) this.resourcesDict = body.resources_dict;
    return body;
  }

  upload(file: Blob, title: string, fileType: string, description = ""): Promise<{ node: PlynxNode; resource_id: string }> {
    const form = new FormData();
    form.append("data", file, title);
    form.append("title", title);
    form.append("description", description);
    form.append("file_type", fileType);
    return this.request("POST", "/upload_file", form);
  }

  /**
   * A file of any size straight to S3: presigned part URLs from POST /uploads, parts PUT by the browser
   * (a few at a time; a failed part is sent again with a fresh URL, 3 times), then POST .../complete
   * answers the file node. `onProgress` hears bytes sent; aborting `signal` stops the PUTs and aborts
   * the upload, as a part that keeps failing does.
   */
  async uploadDirect(
    file: Blob,
    title: string,
    fileType: string,
    onProgress: (sent: number, total: number) => void,
    signal: AbortSignal,
  ): Promise<{ node: PlynxNode; resource_id: string }> {
    const created = await this.request("POST", "/uploads", { size: file.size, title, file_type: fileType }, "Uploads");
    const id: string = created.upload_id;
    const partSize: number = created.part_size;
    const count: number = created.part_count;
    const route = `/uploads/${encodeURIComponent(id)}`;
    const urls = new Map<number, string>(created.parts.map((p: UploadPartUrl) => [p.part_number, p.url]));
    const etags: string[] = [];
    const inFlight = new Map<number, number>();
    let done = 0;
    let next = 1;
    const report = () => onProgress(done + [...inFlight.values()].reduce((a, b) => a + b, 0), file.size);
    // One failure (or Cancel) stops every part still going.
    const stop = new AbortController();
    const cancel = () => stop.abort();
    signal.addEventListener("abort", cancel, { once: true });

    const send = async (n: number) => {
      const body = file.slice((n - 1) * partSize, Math.min(n * partSize, file.size));
      for (let attempt = 0; ; attempt++) {
        if (!urls.has(n) || attempt > 0) {
          const more = Array.from({ length: Math.min(100, count - n + 1) }, (_, i) => n + i);
          const fresh = await this.request("POST", `${route}/parts`, { part_numbers: more });
          fresh.parts.forEach((p: UploadPartUrl) => urls.set(p.part_number, p.url));
        }
        try {
          etags[n - 1] = await putPart(urls.get(n)!, body, (loaded) => {
            inFlight.set(n, loaded);
            report();
          }, stop.signal);
          break;
        } catch (e) {
          inFlight.delete(n);
          if (stop.signal.aborted || attempt >= 3) throw e;
          await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
          if (stop.signal.aborted) throw new ApiError("Upload cancelled", 0, "http");
        }
      }
      inFlight.delete(n);
      done += body.size;
      report();
    };
    const worker = async () => {
      while (next <= count && !stop.signal.aborted) await send(next++);
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, count) }, worker));
      if (stop.signal.aborted) throw new ApiError("Upload cancelled", 0, "http");
    } catch (e) {
      stop.abort();
      await this.request("DELETE", route).catch(() => undefined);
      throw signal.aborted ? new ApiError("Upload cancelled", 0, "http") : e;
    } finally {
      signal.removeEventListener("abort", cancel);
    }
    const parts = etags.map((etag, i) => ({ part_number: i + 1, etag }));
    return this.request("POST", `${route}/complete`, { parts });
  }

  // --- resources --------------------------------------------------------------------------------

  resourceUrl(id: string, preview = false, fileType?: string): string {
    const query = preview ? `?preview=true${fileType ? `&file_type=${encodeURIComponent(fileType)}` : ""}` : "";
    return `${this.base}/resources/${encodeURIComponent(id)}${query}`;
  }

  /** A resource's preview as text (at most what the API's preview returns) and its full size. */
  /** The preview: plain text, or with a file type the API's HTML preview of that type (csv table, ...). */
  async previewText(id: string, fileType?: string): Promise<{ text: string; size: number | null; contentType: string }> {
    let response: Response;
    try {
      response = await fetch(this.resourceUrl(id, true, fileType), { headers: this.authHeader() });
    } catch {
      throw new ApiError("Cannot reach the PLynx API to read this resource.", 0, "network");
    }
    if (!response.ok) throw new ApiError(`The resource could not be read (HTTP ${response.status}).`, response.status, "http");
    const size = response.headers.get("X-Resource-Size");
    return { text: await response.text(), size: size ? Number(size) : null, contentType: response.headers.get("Content-Type") ?? "" };
  }

  /** The whole resource as a Blob (for images and downloads with the session's credentials). */
  async blob(id: string): Promise<Blob> {
    let response: Response;
    try {
      response = await fetch(this.resourceUrl(id), { headers: this.authHeader() });
    } catch {
      throw new ApiError("Cannot reach the PLynx API to read this resource.", 0, "network");
    }
    if (!response.ok) throw new ApiError(`The resource could not be read (HTTP ${response.status}).`, response.status, "http");
    return response.blob();
  }
}

export interface SearchQuery {
  search?: string;
  per_page?: number;
  offset?: number;
  status?: string[];
  base_node_names?: string[];
  /** true: only archived items (the lists' "Archived" filter); false or absent: only the others. */
  archived?: boolean;
}

export const api = new Client();

/** The message to show for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Parts of one upload sent at once: one connection to S3 rarely carries a user's whole bandwidth. */
const PARALLEL_PARTS = 4;

interface UploadPartUrl {
  part_number: number;
  url: string;
}

/** PUT one part to its presigned S3 URL (no API credentials: the URL is signed); S3's ETag of it. */
function putPart(url: string, body: Blob, onLoaded: (loaded: number) => void, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ApiError("Upload cancelled", 0, "http"));
      return;
    }
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal.addEventListener("abort", abort, { once: true });
    xhr.open("PUT", url);
    xhr.upload.onprogress = (event) => onLoaded(event.loaded);
    xhr.onload = () => {
      signal.removeEventListener("abort", abort);
      const etag = xhr.getResponseHeader("ETag");
      if (xhr.status === 200 && etag) resolve(etag);
      else reject(new ApiError(`A part was refused by storage (${xhr.status})`, xhr.status, "http"));
    };
    xhr.onerror = () => {
      signal.removeEventListener("abort", abort);
      reject(new ApiError("A part could not reach storage", 0, "network"));
    };
    xhr.onabort = () => reject(new ApiError("Upload cancelled", 0, "http"));
    xhr.send(body);
  });
}
