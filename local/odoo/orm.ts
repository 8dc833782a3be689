/**
 * The emulator's ORM: the public methods an integration calls (search, read, create, write,
 * unlink, load, ...) with Odoo's validation, relations, x2many commands, access rights and
 * error messages. Protocols (JSON-RPC, JSON-2, XML-RPC) only decode calls and encode results.
 */
import { randomBytes } from 'node:crypto';
import type { Database, Row } from './database.ts';
import { type DomainTarget, evaluate, parseDomain } from './domain.ts';
import {
  accessDenied,
  accessError,
  missingError,
  OdooException,
  pythonError,
  userError,
  validationError,
} from './exceptions.ts';
import {
  afterPaymentCreate,
  afterWrite,
  assignOutstandingLine,
  type Books,
  cancelMoves,
  cancelOrders,
  computeAllPublic,
  confirmOrders,
  createDefaults,
  createPayments,
  draftOrders,
  paymentRegisterDefaults,
  postMoves,
  postPayments,
  reconcileLines,
  resetMovesToDraft,
  reversalDefaults,
  reverseMoves,
} from './finance.ts';
import {
  type FieldDef,
  fieldsOf,
  MODELS,
  type ModelDef,
  modelDef,
  type OdooVersion,
  PRODUCT_DELEGATED,
  type RecordView,
  selectionOf,
} from './models.ts';

export type Operation = 'read' | 'write' | 'create' | 'unlink';

export interface UserAccount {
  readonly id: number;
  readonly login: string;
  password: string;
  apiKeys: { key: string; name: string; scope: string | null; expiration: string | null }[];
  /** `*` for every model and operation; otherwise model → operations allowed. */
  readonly access: '*' | Readonly<Record<string, readonly Operation[]>>;
}

const OPERATION_WORDS: Record<Operation, string> = {
  read: 'read',
  write: 'modify',
  create: 'create',
  unlink: 'delete',
};

/** Positional parameters of each public method, as Python binds them; `ids` come first for record methods. */
export const METHODS: Record<
  string,
  {
    params: string[];
    records: boolean;
    operation: Operation;
    models?: string[];
    since?: OdooVersion;
    /** Acts on the caller's own credentials, so model access rights do not apply. */
    own?: boolean;
    /** Checks access per record, as its writes happen (load: a refusal is a row's message). */
    perRecordAccess?: boolean;
  }
> = {
  search: { params: ['domain', 'offset', 'limit', 'order'], records: false, operation: 'read' },
  search_count: { params: ['domain', 'limit'], records: false, operation: 'read' },
  search_read: {
    params: ['domain', 'fields', 'offset', 'limit', 'order', 'load'],
    records: false,
    operation: 'read',
  },
  read: { params: ['fields', 'load'], records: true, operation: 'read' },
  exists: { params: [], records: true, operation: 'read' },
  create: { params: ['vals_list'], records: false, operation: 'create' },
  write: { params: ['vals'], records: true, operation: 'write' },
  unlink: { params: [], records: true, operation: 'unlink' },
  fields_get: { params: ['allfields', 'attributes'], records: false, operation: 'read' },
  default_get: { params: ['fields_list'], records: false, operation: 'read' },
  name_search: {
    params: ['name', 'domain', 'operator', 'limit'],
    records: false,
    operation: 'read',
  },
  load: { params: ['fields', 'data'], records: false, operation: 'create', perRecordAccess: true },
  check_object_reference: {
    params: ['module', 'xml_id', 'raise_on_access_error'],
    records: false,
    operation: 'read',
    models: ['ir.model.data'],
  },
  action_post: {
    params: [],
    records: true,
    operation: 'write',
    models: ['account.move', 'account.payment'],
  },
  action_confirm: { params: [], records: true, operation: 'write', models: ['sale.order'] },
  action_cancel: {
    params: [],
    records: true,
    operation: 'write',
    models: ['sale.order', 'sale.order.cancel'],
  },
  action_draft: { params: [], records: true, operation: 'write', models: ['sale.order'] },
  button_cancel: { params: [], records: true, operation: 'write', models: ['account.move'] },
  button_draft: { params: [], records: true, operation: 'write', models: ['account.move'] },
  js_assign_outstanding_line: {
    params: ['line_id'],
    records: true,
    operation: 'write',
    models: ['account.move'],
  },
  reconcile: { params: [], records: true, operation: 'write', models: ['account.move.line'] },
  action_create_payments: {
    params: [],
    records: true,
    operation: 'write',
    models: ['account.payment.register'],
  },
  reverse_moves: {
    params: ['is_modify'],
    records: true,
    operation: 'write',
    models: ['account.move.reversal'],
  },
  refund_moves: {
    params: [],
    records: true,
    operation: 'write',
    models: ['account.move.reversal'],
    since: 17,
  },
  modify_moves: {
    params: [],
    records: true,
    operation: 'write',
    models: ['account.move.reversal'],
    since: 17,
  },
  compute_all: {
    params: [
      'price_unit',
      'currency',
      'quantity',
      'product',
      'partner',
      'is_refund',
      'handle_price_include',
      'include_caba_tags',
      'fixed_multiplicator',
    ],
    records: true,
    operation: 'read',
    models: ['account.tax'],
  },
  change_password: {
    params: ['old_passwd', 'new_passwd'],
    records: false,
    operation: 'read',
    models: ['res.users'],
    own: true,
  },
  context_get: { params: [], records: false, operation: 'read', models: ['res.users'], own: true },
  generate: {
    params: ['key', 'scope', 'name', 'expiration_date'],
    records: false,
    operation: 'read',
    models: ['res.users.apikeys'],
    since: 19,
    own: true,
  },
  revoke: {
    params: ['key'],
    records: false,
    operation: 'read',
    models: ['res.users.apikeys'],
    since: 19,
    own: true,
  },
};

/**
 * An exception to raise inside `load`'s row `record` (index of the record), where Odoo's import
 * catches it and reports it as that row's message; for fault injection.
 */
export type RowFault = (record: number) => OdooException | undefined;

export interface CallOptions {
  readonly rowFault?: RowFault;
}

export interface OrmOptions {
  readonly version: OdooVersion;
  /** Allow res.users.apikeys.generate / revoke for non-admin users (base.enable_programmatic_api_keys). */
  readonly programmaticApiKeys: boolean;
}

export class Orm {
  private readonly fieldCache = new Map<string, Record<string, FieldDef>>();

  constructor(
    readonly db: Database,
    readonly users: Map<number, UserAccount>,
    readonly options: OrmOptions,
  ) {
    // Lines by their parent, so reading an order's lines costs its lines, not the table.
    for (const model of MODELS)
      for (const field of Object.values(model.fields))
        if (field.type === 'one2many' && field.relation && field.inverse) {
          const inverse = field.inverse;
          if (!db.hasIndex(field.relation, inverse))
            db.defineIndex(
              field.relation,
              (row) => (typeof row[inverse] === 'number' ? String(row[inverse]) : undefined),
              inverse,
            );
        }
    if (!db.hasIndex('ir.model.data', 'record'))
      db.defineIndex(
        'ir.model.data',
        (row) => `${String(row.model)},${String(row.res_id)}`,
        'record',
      );
  }

  get version(): OdooVersion {
    return this.options.version;
  }

  fields(model: ModelDef): Record<string, FieldDef> {
    const cached = this.fieldCache.get(model.name);
    if (cached) return cached;
    let fields = fieldsOf(model, this.version);
    if (model.name === 'product.product') {
      const template = modelDef('product.template') as ModelDef;
      const delegated = Object.entries(fieldsOf(template, this.version)).filter(([name]) =>
        PRODUCT_DELEGATED.has(name),
      );
      fields = { ...Object.fromEntries(delegated), ...fields };
    }
    this.fieldCache.set(model.name, fields);
    return fields;
  }

  model(name: string): ModelDef {
    const model = modelDef(name);
    if (!model || (model.since && this.version < model.since))
      throw userError(`Object ${name} doesn't exist`);
    return model;
  }

  /** One public call as a user; one transaction. */
  call(
    uid: number,
    model: string,
    method: string,
    positional: unknown[],
    named: Record<string, unknown>,
    context: Record<string, unknown> = {},
    options: CallOptions = {},
  ): unknown {
    if (method.startsWith('_')) {
      throw accessError(
        this.version >= 19
          ? `Private methods (such as '${model}.${method}') cannot be called remotely.`
          : `Private methods (such as ${method}) cannot be called remotely.`,
      );
    }
    const def = this.model(model);
    const signature = METHODS[method];
    if (
      !signature ||
      (signature.models && !signature.models.includes(model)) ||
      (signature.since && this.version < signature.since)
    ) {
      throw pythonError('AttributeError', missingMethodMessage(this.version, model, method));
    }
    const args = [...positional];
    const ids = signature.records ? normaliseIds(named.ids ?? args.shift()) : [];
    const bound: Record<string, unknown> = {};
    signature.params.forEach((param, i) => {
      if (i < args.length) bound[param] = args[i];
    });
    for (const [key, value] of Object.entries(named)) {
      if (key === 'ids' || key === 'context') continue;
      // Older callers pass search's domain as `args`, as Odoo 16 names it in name_search.
      const param = key === 'args' && method === 'name_search' ? 'domain' : key;
      if (!signature.params.includes(param)) {
        throw pythonError('TypeError', `${method}() got an unexpected keyword argument '${key}'`);
      }
      bound[param] = value;
    }
    const env = new Environment(this, def, uid, context, options.rowFault);
    const checked = signature.own || signature.perRecordAccess ? undefined : signature.operation;
    return this.db.transaction(() => env.dispatch(method, ids, bound, checked));
  }
}

function normaliseIds(value: unknown): number[] {
  if (value === undefined || value === null || value === false) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((id) => {
    if (typeof id !== 'number' || !Number.isInteger(id))
      throw pythonError('TypeError', `Invalid id ${JSON.stringify(id)}: ids are integers`);
    return id;
  });
}

const pad = (n: number, width = 5) => String(n).padStart(width, '0');

/** A model bound to a user and context for the duration of one call. */
class Environment {
  private readonly fields: Record<string, FieldDef>;

  constructor(
    private readonly orm: Orm,
    private readonly def: ModelDef,
    private readonly uid: number,
    private readonly context: Record<string, unknown>,
    /** Faults to raise in `load`'s rows (this environment's call only). */
    readonly rowFault?: RowFault,
  ) {
    this.fields = orm.fields(def);
  }

  private get db(): Database {
    return this.orm.db;
  }

  private other(model: string, context = this.context): Environment {
    return new Environment(this.orm, this.orm.model(model), this.uid, context);
  }

  /** The ORM as the finance workflow sees it, acting in this call's context. */
  private books(context = this.context): Books {
    return {
      version: this.orm.version,
      context,
      view: (model, id) => this.other(model).view(id),
      create: (model, vals) => this.other(model, context).create(vals),
      write: (model, id, vals) => this.other(model, context).write(id, vals),
      unlink: (model, id) => this.other(model).unlink(id),
      store: (model, id, values) => this.db.update(model, id, values),
      next: (sequence) => this.db.next(sequence),
      search: (model, domain, limit) => this.other(model).search(domain, 0, limit, undefined),
    };
  }

  checkAccess(operation: Operation): void {
    const user = this.orm.users.get(this.uid);
    if (!user) throw accessDenied();
    if (user.access === '*') return;
    if (user.access[this.def.name]?.includes(operation)) return;
    throw accessError(
      `You are not allowed to ${OPERATION_WORDS[operation]} '${this.def.description}' (${this.def.name}) records.\n\n` +
        'This operation is allowed for the following groups:\n\t- Administration/Settings\n\n' +
        'Contact your administrator to request access if necessary.',
    );
  }

  dispatch(
    method: string,
    ids: number[],
    p: Record<string, unknown>,
    operation: Operation | undefined,
  ): unknown {
    if (operation) this.checkAccess(operation);
    switch (method) {
      case 'search':
        return this.search(p.domain, num(p.offset), num(p.limit), p.order);
      case 'search_count':
        return this.search(p.domain, 0, num(p.limit), undefined).length;
      case 'search_read': {
        const found = this.search(p.domain, num(p.offset), num(p.limit), p.order);
        return this.read(found, p.fields);
      }
      case 'read':
        this.requireExisting(ids);
        return this.read(ids, p.fields);
      case 'exists':
        return ids.filter((id) => this.db.table(this.def.name).has(id));
      case 'create': {
        if (p.vals_list === undefined)
          throw pythonError(
            'TypeError',
            "create() missing 1 required positional argument: 'vals_list'",
          );
        const list = Array.isArray(p.vals_list) ? p.vals_list : [p.vals_list];
        const created = list.map((vals) => this.create(asVals(vals)));
        return Array.isArray(p.vals_list) ? created : created[0];
      }
      case 'write':
        if (p.vals === undefined)
          throw pythonError('TypeError', "write() missing 1 required positional argument: 'vals'");
        this.requireExisting(ids);
        for (const id of ids) this.write(id, asVals(p.vals));
        return true;
      case 'unlink':
        this.requireExisting(ids);
        for (const id of ids) this.unlink(id);
        return true;
      case 'fields_get':
        return this.fieldsGet(p.allfields, p.attributes);
      case 'default_get':
        return Object.fromEntries(
          (Array.isArray(p.fields_list) ? p.fields_list : []).flatMap((f: unknown) => {
            const field = this.fields[String(f)];
            const value = field ? this.defaultOf(field) : undefined;
            return value === undefined ? [] : [[String(f), value]];
          }),
        );
      case 'name_search': {
        const domain = [...(Array.isArray(p.domain) ? p.domain : [])];
        const name = String(p.name ?? '');
        if (name) domain.push([this.def.recName ?? 'name', String(p.operator ?? 'ilike'), name]);
        return this.search(domain, 0, num(p.limit) ?? 100, undefined).map((id) => [
          id,
          this.displayName(id),
        ]);
      }
      case 'load':
        return this.load(p.fields, p.data);
      case 'check_object_reference': {
        const [row] = this.imdLookup(String(p.module), String(p.xml_id));
        if (!row)
          throw validationError(`External ID not found in the system: ${p.module}.${p.xml_id}`);
        return [row.model, row.res_id];
      }
      case 'action_post':
        this.requireExisting(ids);
        return this.def.name === 'account.move'
          ? postMoves(this.books(), ids)
          : postPayments(this.books(), ids);
      case 'action_confirm':
        this.requireExisting(ids);
        return confirmOrders(this.books(), ids);
      case 'action_cancel':
        this.requireExisting(ids);
        if (this.def.name === 'sale.order') return cancelOrders(this.books(), ids);
        return cancelOrders(
          this.books({ ...this.context, disable_cancel_warning: true }),
          ids.map((id) => Number(this.value(id, 'order_id'))),
        );
      case 'action_draft':
        this.requireExisting(ids);
        return draftOrders(this.books(), ids);
      case 'button_cancel':
        this.requireExisting(ids);
        return cancelMoves(this.books(), ids);
      case 'button_draft':
        this.requireExisting(ids);
        return resetMovesToDraft(this.books(), ids);
      case 'js_assign_outstanding_line':
        this.requireExisting(ids);
        this.requireSingleton(ids);
        return assignOutstandingLine(this.books(), ids[0] as number, p.line_id);
      case 'reconcile':
        this.requireExisting(ids);
        return reconcileLines(this.books(), ids);
      case 'action_create_payments':
        this.requireExisting(ids);
        this.requireSingleton(ids);
        return createPayments(this.books(), ids[0] as number);
      case 'reverse_moves':
      case 'refund_moves':
      case 'modify_moves': {
        this.requireExisting(ids);
        this.requireSingleton(ids);
        const wizard = ids[0] as number;
        const mode =
          method === 'modify_moves' || (method === 'reverse_moves' && p.is_modify === true)
            ? 'modify'
            : method === 'reverse_moves' && this.orm.version < 17
              ? (String(this.value(wizard, 'refund_method') || 'refund') as 'refund')
              : 'refund';
        return reverseMoves(this.books(), wizard, mode);
      }
      case 'compute_all':
        this.requireExisting(ids);
        return computeAllPublic(this.books(), ids, p);
      case 'change_password':
        return this.changePassword(p.old_passwd, p.new_passwd);
      case 'context_get':
        return { lang: 'en_US', tz: 'UTC', uid: this.uid };
      case 'generate':
        return this.generateApiKey(p);
      case 'revoke':
        return this.revokeApiKey(p.key);
      default:
        throw pythonError(
          'AttributeError',
          missingMethodMessage(this.orm.version, this.def.name, method),
        );
    }
  }

  // ---- reading ----------------------------------------------------------------------------

  private row(id: number): Row | undefined {
    return this.db.table(this.def.name).get(id);
  }

  private requireSingleton(ids: number[]): void {
    if (ids.length !== 1)
      throw pythonError('ValueError', `Expected singleton: ${this.def.name}(${ids.join(', ')},)`);
  }

  private requireExisting(ids: number[]): void {
    const missing = ids.filter((id) => !this.row(id));
    if (missing.length > 0) {
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${this.def.name}(${missing.join(', ')},), User: ${this.uid})`,
      );
    }
  }

  /** The stored or computed value of a field, in cache form (ids for relations). */
  value(id: number, name: string): unknown {
    const field = this.fields[name];
    const row = this.row(id);
    if (!row) return undefined;
    if (name === 'id') return id;
    if (name === 'display_name') return this.displayName(id);
    if (!field) return undefined;
    if (this.def.name === 'product.product' && PRODUCT_DELEGATED.has(name)) {
      return this.other('product.template').value(Number(row.product_tmpl_id), name);
    }
    if (field.compute) return field.compute(this.view(id));
    if (field.type === 'one2many') {
      const relation = field.relation as string;
      const table = this.db.table(relation);
      const lines = this.db.lookup(relation, String(id), field.inverse as string);
      const shown = field.rows ? lines.filter((l) => field.rows?.(table.get(l) ?? {})) : lines;
      return shown.sort((a, b) => a - b);
    }
    return row[name] ?? (field.type === 'many2many' ? [] : false);
  }

  view(id: number): RecordView {
    return {
      id,
      model: this.def.name,
      version: this.orm.version,
      get: (field) => this.value(id, field),
      lines: (field) => {
        const relation = this.fields[field]?.relation as string;
        const other = this.other(relation);
        const value = this.value(id, field);
        return (Array.isArray(value) ? value : []).map((lineId) => other.view(Number(lineId)));
      },
      related: (field) => {
        const relation = this.fields[field]?.relation;
        const value = this.value(id, field);
        return relation && typeof value === 'number' && value > 0
          ? this.other(relation).view(value)
          : undefined;
      },
      record: (model, other) =>
        this.db.table(model).has(other) ? this.other(model).view(other) : undefined,
    };
  }

  displayName(id: number): string {
    if (this.def.name === 'res.partner') {
      const parent = this.value(id, 'parent_id');
      const name = String(this.value(id, 'name') || '');
      return typeof parent === 'number' && parent ? `${this.displayName(parent)}, ${name}` : name;
    }
    const value = this.value(id, this.def.recName ?? 'name');
    return value === false || value === undefined ? `${this.def.name},${id}` : String(value);
  }

  private read(ids: number[], fieldsParam: unknown): Record<string, unknown>[] {
    const wanted =
      Array.isArray(fieldsParam) && fieldsParam.length > 0
        ? fieldsParam.map(String)
        : ['display_name', ...Object.keys(this.fields)];
    for (const name of wanted) {
      if (name !== 'id' && name !== 'display_name' && !this.fields[name]) {
        throw pythonError('ValueError', `Invalid field '${name}' on model '${this.def.name}'`);
      }
    }
    return ids.map((id) => {
      const record: Record<string, unknown> = { id };
      for (const name of wanted) {
        if (name === 'id') continue;
        const field = this.fields[name];
        const value = this.value(id, name);
        if (field?.type === 'many2one') {
          record[name] =
            typeof value === 'number' && value
              ? [value, this.other(field.relation as string).displayName(value)]
              : false;
        } else {
          record[name] = value === null || value === undefined ? false : value;
        }
      }
      return record;
    });
  }

  private target(id: number): DomainTarget {
    return {
      values: (path) => this.pathValues(id, path),
      relational: (path) => {
        const field = this.fieldAt(path);
        if (!field?.relation) return undefined;
        const other = this.other(field.relation);
        return { match: (ids, domain) => other.filter(ids, domain) };
      },
      hierarchy: (path, ids, direction) => {
        const field = this.fieldAt(path);
        const other = field?.relation ? this.other(field.relation) : this;
        return other.family(ids, direction);
      },
    };
  }

  private fieldAt(path: string): FieldDef | undefined {
    const [head, ...rest] = path.split('.');
    const field = this.fields[head as string];
    if (!field || rest.length === 0) return field;
    return field.relation ? this.other(field.relation).fieldAt(rest.join('.')) : undefined;
  }

  private pathValues(id: number, path: string): unknown[] {
    const [head, ...rest] = path.split('.');
    if (head !== 'id' && head !== 'display_name' && !this.fields[head as string]) {
      throw pythonError(
        'ValueError',
        `Invalid field ${this.def.name}.${head} in leaf ${JSON.stringify(path)}`,
      );
    }
    const value = this.value(id, head as string);
    const list = Array.isArray(value)
      ? value
      : value === false || value === null || value === undefined
        ? []
        : [value];
    if (rest.length === 0) return list;
    const relation = this.fields[head as string]?.relation;
    if (!relation)
      throw pythonError('ValueError', `Invalid field ${path}: ${head} is not a relation`);
    const other = this.other(relation);
    return list.flatMap((related) => other.pathValues(Number(related), rest.join('.')));
  }

  filter(ids: number[], domain: unknown): number[] {
    if (this.orm.version < 17 && /"(not )?any"/.test(JSON.stringify(domain ?? []))) {
      throw pythonError(
        'ValueError',
        `Invalid operator 'any' in domain term (Odoo ${this.orm.version} has no any / not any)`,
      );
    }
    const tree = parseDomain(domain);
    return ids.filter((id) => this.row(id) && evaluate(tree, this.target(id)));
  }

  family(ids: number[], direction: 'children' | 'parents'): number[] {
    const found = new Set(ids);
    let frontier = [...ids];
    while (frontier.length > 0) {
      const next: number[] = [];
      for (const id of frontier) {
        const related =
          direction === 'parents'
            ? [this.value(id, 'parent_id')].filter(
                (v): v is number => typeof v === 'number' && v > 0,
              )
            : this.db.lookup(this.def.name, String(id), 'parent_id');
        for (const r of related) if (!found.has(r)) found.add(r) && next.push(r);
      }
      frontier = next;
    }
    return [...found];
  }

  search(domain: unknown, offset = 0, limit: number | undefined, order: unknown): number[] {
    const hasActive = 'active' in this.fields;
    const mentionsActive = JSON.stringify(domain ?? []).includes('"active"');
    let ids = this.filter(this.candidates(domain), domain);
    // Archived records are hidden unless the domain asks about `active`, as in Odoo.
    if (hasActive && !mentionsActive && this.context.active_test !== false) {
      ids = ids.filter((id) => this.value(id, 'active') !== false);
    }
    ids = this.sort(ids, typeof order === 'string' && order ? order : (this.def.order ?? 'id'));
    return ids.slice(offset, limit ? offset + limit : undefined);
  }

  /**
   * Rows worth evaluating the domain on. External ids are looked up by module and name on
   * every upsert, so a domain pinning both uses the index instead of scanning the table.
   */
  private candidates(domain: unknown): number[] {
    if (
      this.def.name === 'ir.model.data' &&
      Array.isArray(domain) &&
      domain.every((t) => Array.isArray(t))
    ) {
      const terms = domain as [string, string, unknown][];
      const module = terms.find(([f, op]) => f === 'module' && op === '=')?.[2];
      const name = terms.find(([f, op]) => f === 'name' && (op === '=' || op === 'in'));
      if (typeof module === 'string' && name) {
        const names = Array.isArray(name[2]) ? name[2] : [name[2]];
        return names.flatMap((n) => this.db.lookup('ir.model.data', `${module}.${String(n)}`));
      }
    }
    return [...this.db.table(this.def.name).keys()];
  }

  private sort(ids: number[], order: string): number[] {
    const keys = order.split(',').map((part) => {
      const [field = 'id', direction = 'asc'] = part.trim().split(/\s+/);
      if (field !== 'id' && !this.fields[field])
        throw pythonError('ValueError', `Invalid "order" specified (${order}).`);
      return { field, desc: direction.toLowerCase() === 'desc' };
    });
    keys.push({ field: 'id', desc: false });
    return [...ids].sort((a, b) => {
      for (const { field, desc } of keys) {
        const x = sortKey(this.value(a, field));
        const y = sortKey(this.value(b, field));
        if (x === y) continue;
        // PostgreSQL puts NULLs last in ascending order.
        const c = x === undefined ? 1 : y === undefined ? -1 : x < y ? -1 : 1;
        return desc ? -c : c;
      }
      return 0;
    });
  }

  private fieldsGet(
    allfields: unknown,
    attributes: unknown,
  ): Record<string, Record<string, unknown>> {
    const names =
      Array.isArray(allfields) && allfields.length > 0
        ? allfields.map(String)
        : Object.keys(this.fields);
    const wanted =
      Array.isArray(attributes) && attributes.length > 0
        ? new Set(attributes.map(String))
        : undefined;
    const result: Record<string, Record<string, unknown>> = {};
    for (const name of names) {
      const field = this.fields[name];
      if (!field) continue;
      const description: Record<string, unknown> = {
        type: field.type,
        string: field.string,
        required: Boolean(field.required),
        readonly: Boolean(field.readonly || field.compute),
        store: !field.compute,
        ...(field.relation ? { relation: field.relation } : {}),
        ...(field.selection ? { selection: selectionOf(field) } : {}),
      };
      result[name] = wanted
        ? Object.fromEntries(Object.entries(description).filter(([k]) => wanted.has(k)))
        : description;
    }
    return result;
  }

  // ---- writing ----------------------------------------------------------------------------

  private defaultOf(field: FieldDef): unknown {
    return typeof field.default === 'function'
      ? (field.default as (v: OdooVersion) => unknown)(this.orm.version)
      : field.default;
  }

  /** Converts an incoming value to its stored form, with Odoo's errors for wrong types. */
  private convert(name: string, field: FieldDef, value: unknown): unknown {
    if (value === null || value === undefined) return false;
    switch (field.type) {
      case 'char':
      case 'text':
      case 'html':
        return value === false ? false : typeof value === 'string' ? value : String(value);
      case 'integer': {
        if (value === false) return 0;
        const n = typeof value === 'number' ? value : Number(String(value).trim());
        if (!Number.isFinite(n) || (typeof value === 'string' && !/^-?\d+$/.test(value.trim()))) {
          throw pythonError(
            'ValueError',
            `invalid literal for int() with base 10: ${pyRepr(value)}`,
          );
        }
        return Math.trunc(n);
      }
      case 'float':
      case 'monetary': {
        if (value === false) return 0;
        const n = typeof value === 'number' ? value : Number(String(value).trim());
        if (
          typeof value === 'boolean' ||
          !Number.isFinite(n) ||
          (typeof value === 'string' && value.trim() === '')
        ) {
          throw pythonError('ValueError', `could not convert string to float: ${pyRepr(value)}`);
        }
        return n;
      }
      case 'boolean':
        return Boolean(value);
      case 'date':
      case 'datetime': {
        if (value === false) return false;
        const text = String(value);
        const pattern =
          field.type === 'date'
            ? /^\d{4}-\d{2}-\d{2}$/
            : /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/;
        if (!pattern.test(text) || Number.isNaN(Date.parse(text.replace(' ', 'T')))) {
          throw pythonError(
            'ValueError',
            field.type === 'date'
              ? `time data ${pyRepr(text)} does not match format '%Y-%m-%d'`
              : `time data ${pyRepr(text)} does not match format '%Y-%m-%d %H:%M:%S'`,
          );
        }
        return field.type === 'datetime' && text.length === 10 ? `${text} 00:00:00` : text;
      }
      case 'selection': {
        if (value === false) return false;
        if (!selectionOf(field).some(([v]) => v === value)) {
          throw pythonError(
            'ValueError',
            `Wrong value for ${this.def.name}.${name}: ${pyRepr(value)}`,
          );
        }
        return value;
      }
      case 'many2one': {
        if (value === false || value === 0) return false;
        const id = Array.isArray(value) ? value[0] : value;
        if (typeof id !== 'number' || !Number.isInteger(id)) {
          throw pythonError(
            'TypeError',
            `Invalid value ${pyRepr(value)} for many2one field ${this.def.name}.${name}: expected an id`,
          );
        }
        if (!this.db.table(field.relation as string).has(id)) {
          // PostgreSQL's foreign key refuses the id; Odoo reports it as a ValidationError.
          throw validationError(
            this.orm.version >= 19
              ? 'The operation cannot be completed: Another model is using the record you are trying to delete.\n\n' +
                  `The troublemaker is: ${this.def.description} (${this.def.name})\n` +
                  `Thanks to the following constraint: ${field.string} (${name})\nHow about archiving the record instead?`
              : 'The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\n' +
                  `Model: ${this.def.description} (${this.def.name})\nConstraint: ${this.def.name.replace(/\./g, '_')}_${name}_fkey\n`,
          );
        }
        return id;
      }
      default:
        return value;
    }
  }

  private checkRecord(id: number): void {
    for (const [name, field] of Object.entries(this.fields)) {
      if (!field.required || field.compute) continue;
      const value = this.value(id, name);
      if (value === false || value === null || value === undefined || value === '') {
        throw validationError(
          this.orm.version >= 19
            ? `The operation cannot be completed: Missing required value for the field ${field.string} (${name}).\n` +
                `Model: ${this.def.description} (${this.def.name})\n- create/update: a mandatory field is not set\n` +
                '- delete: another model requires the record being deleted, you can archive it instead\n'
            : 'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n' +
                '- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n' +
                `Model: ${this.def.description} (${this.def.name})\nField: ${field.string} (${name})\n`,
        );
      }
    }
    const message = this.def.constraint?.(this.view(id));
    if (message) throw new ConstraintViolation(message);
    if (this.def.name === 'ir.model.data') {
      const row = this.row(id) as Row;
      // By the (module, name) index: a scan here made every new external id cost O(n).
      const clash = this.db
        .lookup('ir.model.data', `${String(row.module)}.${String(row.name)}`)
        .some((other) => other !== id);
      if (clash) {
        const detail = `Key (module, name)=(${row.module}, ${row.name}) already exists.`;
        throw validationError(
          this.orm.version >= 19
            ? `The operation cannot be completed: The value for External Identifier (name) already exists.\n\nDetail: ${detail}\n`
            : `The operation cannot be completed: duplicate key value violates unique constraint "ir_model_data_module_name_uniq_index"\nDETAIL:  ${detail}`,
        );
      }
    }
  }

  private splitVals(vals: Record<string, unknown>): {
    plain: Record<string, unknown>;
    relations: [string, FieldDef, unknown][];
  } {
    const plain: Record<string, unknown> = {};
    const relations: [string, FieldDef, unknown][] = [];
    for (const [name, value] of Object.entries(vals)) {
      const field = this.fields[name];
      if (!field)
        throw pythonError('ValueError', `Invalid field '${name}' on model '${this.def.name}'`);
      if (field.compute) continue; // Odoo ignores values for computed fields without an inverse.
      if (field.type === 'one2many' || field.type === 'many2many')
        relations.push([name, field, value]);
      else plain[name] = this.convert(name, field, value);
    }
    return { plain, relations };
  }

  create(vals: Record<string, unknown>): number {
    if (this.def.name === 'product.product') return this.createProduct(vals);
    // Wizards take their defaults from the records in the context (default_get).
    if (this.def.name === 'account.payment.register')
      vals = paymentRegisterDefaults(this.books(), vals);
    if (this.def.name === 'account.move.reversal') vals = reversalDefaults(this.books(), vals);
    const { plain, relations } = this.splitVals(vals);
    const id = this.db.next(`${this.def.name}.id`);
    const row: Row = { id };
    for (const [name, field] of Object.entries(this.fields)) {
      if (field.compute || field.type === 'one2many') continue;
      if (name in plain) row[name] = plain[name];
      else if (field.type === 'many2many') row[name] = [];
      else {
        const value = this.defaultOf(field);
        row[name] = value === undefined ? false : value;
      }
    }
    this.applyCreateDefaults(row);
    createDefaults(this.books(), this.def.name, row, vals);
    this.db.insert(this.def.name, row);
    for (const [name, field, value] of relations) this.applyCommands(id, name, field, value);
    this.checkRecord(id);
    // product.template.create makes its variant (`_create_variant_ids`), unless told not to.
    if (this.def.name === 'product.template' && !this.context.create_product_product)
      this.other('product.product').createProduct({ product_tmpl_id: id });
    if (this.def.name === 'account.payment') afterPaymentCreate(this.books(), id);
    return id;
  }

  private applyCreateDefaults(row: Row): void {
    if (this.def.name === 'sale.order' && row.name === 'New')
      row.name = `S${pad(this.db.next('sale.order.name'))}`;
  }

  private createProduct(vals: Record<string, unknown>): number {
    const own: Record<string, unknown> = {};
    const template: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(vals))
      (PRODUCT_DELEGATED.has(name) ? template : own)[name] = value;
    // The template comes first and must not make a variant of its own (`_inherits` create).
    if (!own.product_tmpl_id)
      own.product_tmpl_id = this.other('product.template', {
        ...this.context,
        create_product_product: true,
      }).create(template);
    else if (Object.keys(template).length > 0)
      this.other('product.template').write(Number(own.product_tmpl_id), template);
    const { plain } = this.splitVals(own);
    const id = this.db.next('product.product.id');
    this.db.insert('product.product', {
      id,
      active: true,
      default_code: false,
      barcode: false,
      ...plain,
    });
    this.checkRecord(id);
    return id;
  }

  write(id: number, vals: Record<string, unknown>): void {
    if (this.def.name === 'product.product') {
      const template: Record<string, unknown> = {};
      const own: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(vals))
        (PRODUCT_DELEGATED.has(name) ? template : own)[name] = value;
      if (Object.keys(template).length > 0)
        this.other('product.template').write(Number(this.row(id)?.product_tmpl_id), template);
      vals = own;
    }
    const { plain, relations } = this.splitVals(vals);
    this.db.update(this.def.name, id, plain);
    for (const [name, field, value] of relations) this.applyCommands(id, name, field, value);
    afterWrite(this.books(), this.def.name, id, vals);
    this.checkRecord(id);
  }

  unlink(id: number): void {
    // Lines go with their parent (ondelete cascade); other references block the delete.
    for (const [, field] of Object.entries(this.fields)) {
      if (field.type !== 'one2many') continue;
      const child = this.other(field.relation as string);
      const inverse = child.fields[field.inverse as string];
      for (const lineId of this.value(
        id,
        Object.keys(this.fields).find((k) => this.fields[k] === field) as string,
      ) as number[]) {
        if (inverse?.required) child.unlink(lineId);
        else this.db.update(field.relation as string, lineId, { [field.inverse as string]: false });
      }
    }
    this.db.delete(this.def.name, id);
    // As Odoo's BaseModel.unlink does, the record's external ids go with it.
    if (this.def.name !== 'ir.model.data') {
      for (const reference of this.db.lookup('ir.model.data', `${this.def.name},${id}`, 'record'))
        this.db.delete('ir.model.data', reference);
    }
  }

  /** x2many commands: [0,0,vals] [1,id,vals] [2,id] [3,id] [4,id] [5] [6,0,ids], or a plain list of ids. */
  private applyCommands(id: number, name: string, field: FieldDef, value: unknown): void {
    if (value === false || value === null) value = [[5, 0, 0]];
    if (!Array.isArray(value))
      throw pythonError('ValueError', `Wrong value for ${this.def.name}.${name}: ${pyRepr(value)}`);
    const child = this.other(field.relation as string);
    const commands = value.every((v) => typeof v === 'number') ? [[6, 0, value]] : value;
    const current = () => this.value(id, name) as number[];
    const setLinks = (ids: number[]) => {
      if (field.type === 'many2many') {
        const missing = ids.filter((r) => !this.db.table(field.relation as string).has(r));
        if (missing.length > 0)
          throw missingError(
            `Record does not exist or has been deleted.\n(Record: ${field.relation}(${missing.join(', ')},), User: ${this.uid})`,
          );
        this.db.update(this.def.name, id, { [name]: [...new Set(ids)].sort((a, b) => a - b) });
      }
    };
    for (const command of commands) {
      if (!Array.isArray(command))
        throw pythonError(
          'ValueError',
          `Wrong value for ${this.def.name}.${name}: ${pyRepr(command)}`,
        );
      const [code, target, vals] = command as [number, number, unknown];
      switch (code) {
        case 0:
          if (field.type === 'one2many')
            child.create({ ...asVals(vals), [field.inverse as string]: id });
          else setLinks([...current(), child.create(asVals(vals))]);
          break;
        case 1:
          child.requireExisting([target]);
          child.write(target, asVals(vals));
          break;
        case 2:
          child.requireExisting([target]);
          child.unlink(target);
          break;
        case 3:
          if (field.type === 'one2many') {
            if (child.fields[field.inverse as string]?.required) child.unlink(target);
            else
              this.db.update(field.relation as string, target, {
                [field.inverse as string]: false,
              });
          } else setLinks(current().filter((r) => r !== target));
          break;
        case 4:
          child.requireExisting([target]);
          if (field.type === 'one2many')
            this.db.update(field.relation as string, target, { [field.inverse as string]: id });
          else setLinks([...current(), target]);
          break;
        case 5:
          if (field.type === 'one2many')
            for (const line of current()) this.applyCommands(id, name, field, [[3, line, 0]]);
          else setLinks([]);
          break;
        case 6: {
          const ids = Array.isArray(vals) ? vals.map(Number) : [];
          if (field.type === 'one2many') {
            for (const line of current().filter((l) => !ids.includes(l)))
              this.applyCommands(id, name, field, [[3, line, 0]]);
            for (const line of ids) this.applyCommands(id, name, field, [[4, line, 0]]);
          } else setLinks(ids);
          break;
        }
        default:
          throw pythonError(
            'ValueError',
            `Unknown x2many command ${pyRepr(code)} for ${this.def.name}.${name}`,
          );
      }
    }
  }

  private changePassword(oldPassword: unknown, newPassword: unknown): boolean {
    const user = this.orm.users.get(this.uid);
    if (!user || typeof oldPassword !== 'string' || oldPassword !== user.password)
      throw accessDenied();
    if (typeof newPassword !== 'string' || newPassword === '') {
      throw userError('Setting empty passwords is not allowed for security reasons!');
    }
    user.password = newPassword;
    return true;
  }

  private mayManageKeys(): UserAccount {
    const user = this.orm.users.get(this.uid);
    if (!user) throw accessDenied();
    if (user.access !== '*' && !this.orm.options.programmaticApiKeys) {
      throw accessError(
        'Only system users may generate API keys programmatically; set base.enable_programmatic_api_keys.',
      );
    }
    return user;
  }

  private generateApiKey(p: Record<string, unknown>): string {
    const user = this.mayManageKeys();
    if (user.apiKeys.length >= 10) throw userError('Limit of 10 API keys reached for this user.');
    const key =
      typeof p.key === 'string' && /^[0-9a-f]{40}$/.test(p.key)
        ? p.key
        : randomBytes(20).toString('hex');
    user.apiKeys.push({
      key,
      name: String(p.name ?? 'API key'),
      scope: typeof p.scope === 'string' ? p.scope : null,
      expiration: typeof p.expiration_date === 'string' ? p.expiration_date : null,
    });
    return key;
  }

  private revokeApiKey(key: unknown): boolean {
    const user = this.mayManageKeys();
    const before = user.apiKeys.length;
    user.apiKeys = user.apiKeys.filter((k) => k.key !== key);
    if (user.apiKeys.length === before)
      throw userError('The API key does not exist or was already revoked.');
    return true;
  }

  // ---- external ids and load ------------------------------------------------------------------

  imdLookup(module: string, name: string): Row[] {
    const table = this.db.table('ir.model.data');
    return this.db.lookup('ir.model.data', `${module}.${name}`).map((id) => table.get(id) as Row);
  }

  private load(fieldsParam: unknown, dataParam: unknown): unknown {
    if (!Array.isArray(fieldsParam) || !Array.isArray(dataParam)) {
      throw pythonError(
        'TypeError',
        "load() missing 2 required positional arguments: 'fields' and 'data'",
      );
    }
    return new Importer(this, fieldsParam.map(String), dataParam as unknown[][]).run();
  }

  get version(): OdooVersion {
    return this.orm.version;
  }

  /** For the importer: the model's fields and a way to reach related models. */
  get fieldDefs(): Record<string, FieldDef> {
    return this.fields;
  }

  get modelDef(): ModelDef {
    return this.def;
  }

  related(model: string): Environment {
    return this.other(model);
  }

  database(): Database {
    return this.db;
  }

  exists(id: number): boolean {
    return Boolean(this.row(id));
  }
}

/**
 * A row refused by a model's SQL constraint: PostgreSQL's error, which Odoo's RPC layer words
 * as a ValidationError and load reports by the constraint's own message.
 */
class ConstraintViolation extends OdooException {
  constructor(readonly constraintMessage: string) {
    super(
      'odoo.exceptions.ValidationError',
      `The operation cannot be completed: ${constraintMessage}`,
      422,
      2,
    );
  }
}

/** A cell Odoo's import could not convert: reported with the field it belongs to. */
class ConversionError extends OdooException {
  constructor(
    readonly field: string,
    cause: OdooException,
  ) {
    super(cause.odooName, cause.message, cause.status, cause.faultCode);
  }
}

/** Exceptions of Odoo's UserError family (what load's batch attempt reports on its own). */
const USER_ERRORS =
  /^odoo\.exceptions\.(UserError|ValidationError|AccessError|AccessDenied|MissingError|LockError|RedirectWarning)$/;

/**
 * A row's message as Odoo's load words it: its UserErrors and PostgreSQL errors by their text,
 * anything else as an unknown error (`str(type(e))` is `<class 'ValueError'>` for builtins).
 */
function rowMessage(error: OdooException): Record<string, unknown> {
  if (error instanceof ConstraintViolation) return { message: error.constraintMessage };
  if (error.odooName.startsWith('odoo.') || error.odooName.startsWith('psycopg2.'))
    return { message: error.message };
  const type = error.odooName.replace(/^builtins\./, '');
  return {
    message: `Unknown error during import: <class '${type}'>: ${error.message}`,
    moreinfo: 'Resolve other errors first',
  };
}

/**
 * `load(fields, data)`: Odoo's import. Rows whose top-level cells are all empty continue the
 * previous record with one2many lines. Every record is written with its external id inside
 * one savepoint; exceptions are caught per record and reported as `messages` (type error),
 * never raised; if any row errs, all are rolled back and `ids` is false.
 */
class Importer {
  private readonly messages: Record<string, unknown>[] = [];

  constructor(
    private readonly env: Environment,
    private readonly columns: string[],
    private readonly data: unknown[][],
  ) {}

  run(): { ids: number[] | false; messages: Record<string, unknown>[]; nextrow?: number } {
    const fields = this.env.fieldDefs;
    for (const column of this.columns) {
      const [head] = column.split('/');
      if (head !== 'id' && head !== '.id' && !fields[head as string]) {
        throw pythonError('ValueError', `Invalid field name '${column}'`);
      }
    }
    const records = this.group();
    const db = this.env.database();
    const mark = db.savepointMark;
    const ids: number[] = [];
    let errors = 0;
    let firstWriteError: OdooException | undefined;
    for (const [index, record] of records.entries()) {
      const info = { rows: { from: record.from, to: record.to }, record: index };
      try {
        db.savepoint(() => {
          const injected = this.env.rowFault?.(index);
          if (injected) throw injected;
          ids.push(this.importRecord(record));
        });
      } catch (error) {
        if (!(error instanceof OdooException)) throw error;
        errors++;
        if (error instanceof ConversionError) {
          this.messages.push({
            ...info,
            type: 'error',
            field: error.field,
            message: error.message,
          });
        } else {
          firstWriteError ??= error;
          this.messages.push({ ...info, type: 'error', ...rowMessage(error) });
        }
      }
      if (errors >= 10 && errors >= (index + 1) / 10) {
        this.messages.push({
          type: 'warning',
          message:
            'Found more than 10 errors and more than one error per 10 records, interrupted to avoid showing too many errors.',
        });
        break;
      }
    }
    if (errors === 0) return { ids, messages: [], nextrow: 0 };
    db.rollbackTo(mark);
    // Odoo 18 first writes the whole batch at once; when that raises a UserError it puts the
    // error first with the *first* record's position, whichever record caused it, unless the
    // first record's own message already says the same.
    const first = records[0];
    if (
      this.env.version >= 18 &&
      first &&
      firstWriteError &&
      !(firstWriteError instanceof ConstraintViolation) &&
      USER_ERRORS.test(firstWriteError.odooName)
    ) {
      const batchMessage = {
        rows: { from: first.from, to: first.to },
        record: 0,
        type: 'error',
        message: firstWriteError.message,
      };
      const said = this.messages.some(
        (m) =>
          m.record === 0 && m.type === 'error' && m.message === batchMessage.message && !m.field,
      );
      if (!said) this.messages.unshift(batchMessage);
    }
    return { ids: false, messages: this.messages, nextrow: 0 };
  }

  private group(): { from: number; to: number; rows: unknown[][] }[] {
    const topLevel = this.columns
      .map((c) => !c.includes('/') || c.endsWith('/id') || c.endsWith('/.id'))
      .map((top, i) => top && !this.isLineColumn(this.columns[i] as string));
    const records: { from: number; to: number; rows: unknown[][] }[] = [];
    this.data.forEach((row, index) => {
      const startsRecord = row.some(
        (cell, i) => topLevel[i] && cell !== '' && cell !== null && cell !== false,
      );
      const current = records.at(-1);
      if (startsRecord || !current) records.push({ from: index, to: index, rows: [row] });
      else {
        current.rows.push(row);
        current.to = index;
      }
    });
    return records;
  }

  private isLineColumn(column: string): boolean {
    const head = column.split('/')[0] as string;
    return this.env.fieldDefs[head]?.type === 'one2many';
  }

  private importRecord(record: { from: number; rows: unknown[][] }): number {
    const fields = this.env.fieldDefs;
    const vals: Record<string, unknown> = {};
    let xmlid: string | undefined;
    let dbId: number | undefined;
    const lines = new Map<string, Record<string, unknown>[]>();
    record.rows.forEach((row, rowOffset) => {
      const lineVals = new Map<string, Record<string, unknown>>();
      // An empty sub-cell is False, as an empty cell is (ir.fields.converter), so a line's
      // many2many given empty stays empty; a row of empty sub-cells is no line at all.
      const filled = new Set<string>();
      this.columns.forEach((column, i) => {
        const cell = row[i];
        const text = cell === null || cell === undefined || cell === false ? '' : String(cell);
        const parts = column.split('/');
        const head = parts[0] as string;
        if (head === 'id') {
          if (rowOffset === 0 && text) xmlid = text.includes('.') ? text : `__import__.${text}`;
          return;
        }
        if (head === '.id') {
          if (rowOffset === 0 && text) dbId = Number(text);
          return;
        }
        const field = fields[head] as FieldDef;
        if (field.type === 'one2many') {
          const sub = parts.slice(1).join('/');
          if (!sub) return;
          const line = lineVals.get(head) ?? {};
          Object.assign(
            line,
            this.converted(head, () => this.subValue(field.relation as string, sub, text)),
          );
          if (text !== '') filled.add(head);
          lineVals.set(head, line);
          return;
        }
        if (rowOffset > 0) return;
        vals[head] = this.converted(head, () =>
          this.cellValue(this.env, field, parts.slice(1).join('/'), text),
        );
      });
      for (const [head, line] of lineVals) {
        if (filled.has(head)) lines.set(head, [...(lines.get(head) ?? []), line]);
      }
    });
    for (const [head, list] of lines) vals[head] = list.map((line) => [0, 0, line]);

    let existing: number | undefined = dbId;
    if (xmlid) {
      const [module, name] = splitXmlid(xmlid);
      const [row] = this.env.imdLookup(module, name);
      if (row && this.env.exists(Number(row.res_id))) existing = Number(row.res_id);
    }
    if (existing !== undefined && this.env.exists(existing)) {
      this.env.checkAccess('write');
      this.env.write(existing, vals);
      return existing;
    }
    this.env.checkAccess('create');
    const id = this.env.create(vals);
    if (xmlid) {
      const [module, name] = splitXmlid(xmlid);
      const imd = this.env.related('ir.model.data');
      for (const stale of this.env.imdLookup(module, name)) imd.unlink(stale.id);
      imd.create({ module, name, model: this.env.modelDef.name, res_id: id });
    }
    return id;
  }

  /** A cell's value, its conversion errors marked with the field (Odoo logs them so). */
  private converted<T>(field: string, convert: () => T): T {
    try {
      return convert();
    } catch (error) {
      if (error instanceof OdooException && !(error instanceof ConversionError))
        throw new ConversionError(field, error);
      throw error;
    }
  }

  private subValue(model: string, sub: string, text: string): Record<string, unknown> {
    const env = this.env.related(model);
    const [head, ...rest] = sub.split('/');
    const field = env.fieldDefs[head as string];
    if (!field) throw validationError(`Unknown sub-field '${head}' on ${model}`);
    return { [head as string]: this.cellValue(env, field, rest.join('/'), text) };
  }

  /** ir.fields.converter: import strings to values, with its messages. */
  private cellValue(env: Environment, field: FieldDef, suffix: string, text: string): unknown {
    if (text === '') return false;
    switch (field.type) {
      case 'integer':
        if (!/^-?\d+$/.test(text.trim()))
          throw validationError(
            `'${text}' does not seem to be an integer for field '${field.string}'`,
          );
        return Number(text);
      case 'float':
      case 'monetary':
        if (Number.isNaN(Number(text)))
          throw validationError(
            `'${text}' does not seem to be a number for field '${field.string}'`,
          );
        return Number(text);
      case 'boolean': {
        const lowered = text.trim().toLowerCase();
        if (['1', 'true', 'yes'].includes(lowered)) return true;
        if (['0', 'false', 'no'].includes(lowered)) return false;
        throw validationError(`Unknown value '${text}' for boolean field '${field.string}'`);
      }
      case 'date':
        if (!/^\d{4}-\d{2}-\d{2}$/.test(text))
          throw validationError(
            `'${text}' does not seem to be a valid date for field '${field.string}'`,
          );
        return text;
      case 'datetime':
        if (!/^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/.test(text))
          throw validationError(
            `'${text}' does not seem to be a valid datetime for field '${field.string}'`,
          );
        return text;
      case 'selection': {
        const found = selectionOf(field).find(
          ([value, label]) => value === text || label.toLowerCase() === text.toLowerCase(),
        );
        if (!found)
          throw validationError(`Value '${text}' not found in selection field '${field.string}'`);
        return found[0];
      }
      case 'many2one':
      case 'many2many': {
        const related = env.related(field.relation as string);
        const resolve = (one: string): number => {
          if (suffix === '.id') {
            const id = Number(one);
            if (!Number.isInteger(id) || !related.exists(id)) {
              throw validationError(
                `No matching record found for database id '${one}' in field '${field.string}'`,
              );
            }
            return id;
          }
          if (suffix === 'id') {
            const [module, xml] = splitXmlid(one.includes('.') ? one : `__import__.${one}`);
            const [row] = env.imdLookup(module, xml);
            if (!row || !related.exists(Number(row.res_id))) {
              throw validationError(
                `No matching record found for external id '${one}' in field '${field.string}'`,
              );
            }
            return Number(row.res_id);
          }
          const [match] = related.search(
            [[related.modelDef.recName ?? 'name', '=', one]],
            0,
            2,
            undefined,
          );
          if (match === undefined)
            throw validationError(
              `No matching record found for name '${one}' in field '${field.string}'`,
            );
          return match;
        };
        if (field.type === 'many2one') return resolve(text);
        return [[6, 0, text.split(',').map((s) => resolve(s.trim()))]];
      }
      default:
        return text;
    }
  }
}

function missingMethodMessage(version: OdooVersion, model: string, method: string): string {
  if (version >= 19) return `The method '${model}.${method}' does not exist`;
  if (version >= 17) return `The method '${method}' does not exist on the model '${model}'`;
  return `type object '${model}' has no attribute '${method}'`;
}

function splitXmlid(xmlid: string): [string, string] {
  const dot = xmlid.indexOf('.');
  return [xmlid.slice(0, dot), xmlid.slice(dot + 1)];
}

function sortKey(value: unknown): string | number | undefined {
  if (value === false || value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  return Array.isArray(value) ? Number(value[0]) : String(value).toLowerCase();
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function asVals(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw pythonError(
      'ValueError',
      `Invalid values ${pyRepr(value)}: expected a dictionary of field values`,
    );
  }
  return value as Record<string, unknown>;
}

/** Python's repr of a value, as Odoo's messages quote it. */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  return JSON.stringify(value);
}
