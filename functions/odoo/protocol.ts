/** What both wire protocols do: run one ORM method and return its result, or throw an OdooError. */

export interface OdooCall {
  readonly model: string;
  readonly method: string;
  /** Records the method runs on (record methods only). */
  readonly ids?: readonly number[];
  /** Arguments by name (JSON-2 only takes names). */
  readonly named: Readonly<Record<string, unknown>>;
  /** Names in `named` that JSON-RPC passes positionally, in order (Odoo 16/17 want `create` that way). */
  readonly positional?: readonly string[];
  readonly context?: Readonly<Record<string, unknown>>;
  /** Milliseconds before the call is abandoned. */
  readonly timeoutMs: number;
  /** The invocation's deadline: aborts the call when it passes. */
  readonly deadline?: AbortSignal;
}

export interface OdooProtocol {
  readonly name: 'json2' | 'jsonrpc';
  call(call: OdooCall): Promise<unknown>;
}

export interface OdooCredentials {
  readonly login: string;
  /** Password or API key; JSON-RPC accepts either, JSON-2 needs an API key. */
  readonly secret: string;
}
