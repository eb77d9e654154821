// parse.mjs parses PowerShell with tree-sitter-powershell (WebAssembly build,
// run by web-tree-sitter) and prints a JSON summary per script: the grammar's
// ERROR and MISSING nodes, every command invocation with its parameters and
// the kind of each argument expression, and the statement structure the Go
// checks in package pscheck need (what each statement sends down the pipeline).
//
// Usage:
//   node parse.mjs FILE.ps1            one summary object
//   node parse.mjs A.ps1 B.ps1 ...     an array of summaries
//   node parse.mjs --batch < in.json   in: [{"name": "...", "text": "..."}], out: array of summaries
//
// It never runs the scripts: it only reads their text.
import { Parser, Language } from 'web-tree-sitter';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// V8 would otherwise spend seconds optimising the 1 MB grammar module in the
// background (and wait for that at exit); the baseline compiler is plenty for
// parsing a few kilobytes. Must run before the first WebAssembly compile.
v8.setFlagsFromString('--liftoff-only');

const here = dirname(fileURLToPath(import.meta.url));
const wasmPath = join(here, 'node_modules', 'tree-sitter-powershell', 'tree-sitter-powershell.wasm');

// Expression rules the grammar nests for precedence; a node of one of these
// types with a single child is the same expression as that child.
const TRANSPARENT = new Set([
  'logical_expression', 'bitwise_expression', 'comparison_expression', 'additive_expression',
  'multiplicative_expression', 'format_expression', 'range_expression', 'array_literal_expression',
  'unary_expression', 'argument_expression', 'logical_argument_expression', 'bitwise_argument_expression',
  'comparison_argument_expression', 'additive_argument_expression', 'multiplicative_argument_expression',
  'format_argument_expression', 'range_argument_expression', 'left_assignment_expression',
]);

// The clause nodes of a compound statement and the label their blocks get;
// a node of one of these types holds blocks of that clause (see blocks).
const clauseLabels = {
  elseif_clauses: 'elseif', elseif_clause: 'elseif', else_clause: 'else',
  catch_clauses: 'catch', catch_clause: 'catch', finally_clause: 'finally',
  switch_body: 'clause', switch_clauses: 'clause', switch_clause: 'clause',
  named_block_list: 'named', named_block: 'named',
};

const MAX_TEXT = 160;

function clip(s) {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + '...' : s;
}

function pos(node) {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

function unwrap(node) {
  let n = node;
  while (n && TRANSPARENT.has(n.type) && n.childCount === 1) {
    n = n.child(0);
  }
  return n;
}

function namedChildren(node) {
  const out = [];
  for (let i = 0; i < node.namedChildCount; i++) {
    const c = node.namedChild(i);
    if (c.type !== 'comment') out.push(c);
  }
  return out;
}

function typeName(typeLiteral) {
  // [System.Collections.Generic.List[string]] -> System.Collections.Generic.List[string]
  return typeLiteral.text.replace(/^\[/, '').replace(/\]$/, '').trim();
}

function stringValue(node) {
  // node: string_literal; returns the literal's value when it has no
  // interpolation, else null.
  const inner = node.namedChild(0);
  if (!inner) return null;
  const t = inner.text;
  switch (inner.type) {
    case 'verbatim_string_characters':
      return t.slice(1, -1).replace(/''/g, "'");
    case 'verbatim_here_string_characters':
      return t.replace(/^@'\r?\n?/, '').replace(/\r?\n?'@$/, '');
    case 'expandable_string_literal':
      if (inner.namedChildCount > 0) return null;
      return t.slice(1, -1).replace(/""/g, '"').replace(/`(.)/g, '$1');
    case 'expandable_here_string_literal':
      if (inner.namedChildCount > 0) return null;
      return t.replace(/^@"\r?\n?/, '').replace(/\r?\n?"@$/, '');
    default:
      return null;
  }
}

class Walker {
  constructor(tree, name) {
    this.tree = tree;
    this.name = name;
    this.commands = [];
    this.commandIndex = new Map(); // node id -> index in commands
    this.methodCalls = [];
    this.hashtables = [];
    this.assignments = [];
    this.functions = [];
    this.errors = [];
    this.comments = [];
  }

  run() {
    const root = this.tree.rootNode;
    this.collect(root);
    const program = root;
    let paramBlock = null;
    let body = [];
    for (const c of namedChildren(program)) {
      if (c.type === 'param_block') paramBlock = this.paramBlock(c);
      else if (c.type === 'statement_list') body = this.statementList(c);
    }
    return {
      name: this.name,
      errors: this.errors,
      paramBlock,
      body,
      commands: this.commands,
      functions: this.functions,
      methodCalls: this.methodCalls,
      hashtables: this.hashtables,
      assignments: this.assignments,
      comments: this.comments,
    };
  }

  // collect walks the whole tree once: grammar errors, comments, and every
  // command node (numbered in document order so statements can refer to them).
  collect(node) {
    if (node.type === 'ERROR' || node.isError) {
      this.errors.push({ kind: 'ERROR', ...pos(node), text: clip(node.text) });
    } else if (node.isMissing) {
      this.errors.push({ kind: 'MISSING', ...pos(node), text: node.type });
    }
    if (node.type === 'comment') {
      this.comments.push({ ...pos(node), text: clip(node.text) });
    }
    if (node.type === 'command') {
      this.commandIndex.set(node.id, this.commands.length);
      this.commands.push(null); // filled below, after children are numbered
    }
    for (let i = 0; i < node.childCount; i++) this.collect(node.child(i));
    if (node.type === 'command') {
      this.commands[this.commandIndex.get(node.id)] = this.command(node);
    }
    if (node.type === 'invokation_expression') this.methodCalls.push(this.methodCall(node));
    if (node.type === 'hash_literal_expression') this.hashtables.push(this.hashtable(node));
    if (node.type === 'assignment_expression') this.assignments.push(this.assignment(node));
  }

  commandName(cmd) {
    const nameNode = cmd.childForFieldName('command_name');
    let invocation = '';
    for (let i = 0; i < cmd.childCount; i++) {
      if (cmd.child(i).type === 'command_invokation_operator') invocation = cmd.child(i).text;
    }
    if (!nameNode) return { name: '', nameKind: 'expression', invocation };
    let n = nameNode;
    if (n.type === 'command_name_expr') n = unwrap(n.namedChild(0) || n);
    switch (n.type) {
      case 'command_name':
        return { name: n.text, nameKind: 'bareword', invocation };
      case 'path_command_name':
        if (namedChildren(n).some((c) => c.type === 'variable')) {
          return { name: n.text, nameKind: 'variable', invocation };
        }
        return { name: n.text, nameKind: 'bareword', invocation };
      case 'string_literal': {
        const v = stringValue(n);
        return v === null
          ? { name: n.text, nameKind: 'expression', invocation }
          : { name: v, nameKind: 'string', invocation };
      }
      case 'variable':
        return { name: n.text, nameKind: 'variable', invocation };
      default:
        return { name: n.text, nameKind: 'expression', invocation };
    }
  }

  command(cmd) {
    const { name, nameKind, invocation } = this.commandName(cmd);
    const out = {
      id: this.commandIndex.get(cmd.id),
      name,
      nameKind,
      invocation,
      ...pos(cmd),
      text: clip(cmd.text.trim()),
      parameters: [],
      positionals: [],
      splats: [],
      redirections: [],
      stopParsing: false,
    };
    const elements = cmd.childForFieldName('command_elements');
    if (!elements) return out;
    let order = 0;
    let sep = '';
    let open = null; // the last parameter, while it has no value yet
    let last = null; // the last argument, for a following argument_list
    for (let i = 0; i < elements.childCount; i++) {
      const el = elements.child(i);
      if (!el.isNamed || el.type === 'comment') continue;
      switch (el.type) {
        case 'command_argument_sep':
          sep = el.text;
          continue;
        case 'command_parameter': {
          open = {
            order: order++,
            name: el.text.replace(/^-+/, ''),
            raw: el.text,
            ...pos(el),
            attached: false,
            value: null,
          };
          out.parameters.push(open);
          last = null;
          break;
        }
        case 'redirection':
          out.redirections.push(this.redirection(el));
          open = null;
          break;
        case 'stop_parsing':
          out.stopParsing = true;
          open = null;
          break;
        case 'argument_list':
          // $list.ToArray() in argument mode: the grammar splits the member
          // access from its "(...)"; glue them back into one invocation.
          if (last && sep === '') {
            last.kind = 'invocation';
            last.text = clip(last.text + el.text);
            delete last.value;
            break;
          }
          out.positionals.push({ order: order++, kind: 'expression', node: el.type, ...pos(el), text: clip(el.text) });
          break;
        default: {
          const arg = this.classify(el);
          if (arg.kind === 'splat') {
            out.splats.push({ order: order++, name: arg.variable, ...pos(el) });
            open = null;
            break;
          }
          if (open && open.value === null) {
            open.value = arg;
            open.attached = sep === ':';
            last = arg;
            open = null;
          } else {
            last = { order: order++, ...arg };
            out.positionals.push(last);
            open = null;
          }
        }
      }
      sep = '';
    }
    return out;
  }

  redirection(node) {
    const merging = node.namedChildren.find((c) => c.type === 'merging_redirection_operator');
    if (merging) return { operator: merging.text, target: '' };
    const op = node.namedChildren.find((c) => c.type === 'file_redirection_operator');
    const target = node.namedChildren.find((c) => c.type === 'redirected_file_name');
    return { operator: op ? op.text : '', target: target ? target.text.trim() : '' };
  }

  // classify names the kind of an argument or expression node.
  classify(node) {
    const n = unwrap(node);
    const base = { ...pos(n), text: clip(n.text) };
    switch (n.type) {
      case 'generic_token': {
        // A bareword argument expands $variables, as a double-quoted string does.
        const m = /(^|[^`])\$/.exec(n.text);
        if (m) return { kind: 'bareword', interpolated: true, prefix: n.text.slice(0, m.index + m[1].length), ...base };
        return { kind: 'bareword', value: n.text.replace(/`(.)/g, '$1'), ...base };
      }
      case 'string_literal': {
        const inner = n.namedChild(0);
        const value = stringValue(n);
        const kinds = {
          verbatim_string_characters: 'string',
          expandable_string_literal: 'expandable_string',
          verbatim_here_string_characters: 'here_string',
          expandable_here_string_literal: 'expandable_here_string',
        };
        const out = { kind: kinds[inner ? inner.type : ''] || 'string', ...base };
        if (value !== null) out.value = value;
        if (inner && inner.namedChildCount > 0) {
          out.interpolated = true;
          // Literal text before the first interpolation, for external
          // programs' options such as "/INSTANCENAME=$name".
          const first = inner.namedChild(0);
          out.prefix = inner.text.slice(1, first.startIndex - inner.startIndex);
        }
        return out;
      }
      case 'integer_literal':
        return { kind: 'int', value: n.text, ...base };
      case 'real_literal':
        return { kind: 'real', value: n.text, ...base };
      case 'variable': {
        const t = n.text;
        if (t.startsWith('@')) return { kind: 'splat', variable: t.slice(1), ...base };
        const v = t.replace(/^\$/, '');
        const lower = v.toLowerCase();
        if (lower === 'true' || lower === 'false') return { kind: 'bool', variable: v, ...base };
        if (lower === 'null') return { kind: 'null', variable: v, ...base };
        return { kind: 'variable', variable: v, ...base };
      }
      case 'array_literal_expression':
        return { kind: 'array', elements: namedChildren(n).map((c) => this.classify(c)), ...base };
      case 'array_expression':
        return { kind: 'array_subexpression', inner: this.inner(n), ...base };
      case 'sub_expression':
        return { kind: 'subexpression', inner: this.inner(n), ...base };
      case 'parenthesized_expression':
        return { kind: 'parenthesized', inner: this.inner(n), ...base };
      case 'script_block_expression':
        return { kind: 'scriptblock', ...base };
      case 'hash_literal_expression':
        return { kind: 'hashtable', ...base };
      case 'expression_with_unary_operator': {
        const c = namedChildren(n);
        if (c.length === 1 && c[0].type === 'cast_expression') return this.cast(c[0], base);
        if (n.text.startsWith('-') && c.length === 1) {
          const operand = unwrap(c[0]);
          if (operand.type === 'integer_literal') return { kind: 'int', value: n.text, ...base };
          if (operand.type === 'real_literal') return { kind: 'real', value: n.text, ...base };
        }
        return { kind: 'expression', ...base };
      }
      case 'cast_expression':
        return this.cast(n, base);
      case 'type_literal':
        return { kind: 'type', type: typeName(n), ...base };
      case 'member_access':
        return { kind: 'member', ...base };
      case 'invokation_expression':
        return { kind: 'invocation', ...base };
      case 'element_access':
        return { kind: 'element', ...base };
      default:
        return { kind: 'expression', node: n.type, ...base };
    }
  }

  cast(node, base) {
    const t = node.namedChildren.find((c) => c.type === 'type_literal');
    const operand = node.namedChildren.find((c) => c.type !== 'type_literal');
    return {
      kind: 'cast',
      type: t ? typeName(t) : '',
      operand: operand ? this.classify(operand) : null,
      ...base,
    };
  }

  // inner describes what a (...), $(...) or @(...) holds when it is a single
  // statement: the command at the end of its pipeline, or its expression.
  inner(node) {
    const list = node.namedChildren.find((c) => c.type === 'statement_list' || c.type === 'pipeline');
    if (!list) return null;
    const stmts = list.type === 'statement_list' ? namedChildren(list) : [list];
    if (stmts.length !== 1 || stmts[0].type !== 'pipeline') return null;
    const chain = namedChildren(stmts[0]);
    if (chain.length !== 1 || chain[0].type !== 'pipeline_chain') return null;
    const parts = namedChildren(chain[0]).filter((c) => c.type !== 'redirections');
    const last = parts[parts.length - 1];
    if (!last) return null;
    if (last.type === 'command') {
      return { kind: 'command', command: this.commandIndex.get(last.id), name: this.commandName(last).name, ...pos(last), text: clip(last.text) };
    }
    if (parts.length === 1) return this.classify(last);
    return null;
  }

  methodCall(node) {
    const c = node.namedChildren;
    const target = c[0];
    const member = c.find((x) => x.type === 'member_name');
    const args = c.find((x) => x.type === 'argument_list');
    const list = args ? args.namedChildren.find((x) => x.type === 'argument_expression_list') : null;
    const isStatic = node.children.some((x) => !x.isNamed && x.text === '::');
    const out = {
      ...pos(node),
      text: clip(node.text),
      method: member ? member.text : '',
      static: isStatic,
      target: target ? clip(target.text) : '',
      targetKind: 'expression',
      args: list ? namedChildren(list).map((a) => this.classify(a)) : [],
    };
    if (target) {
      const t = unwrap(target);
      if (t.type === 'type_literal') {
        out.targetKind = 'type';
        out.type = typeName(t);
      } else if (t.type === 'variable') {
        out.targetKind = 'variable';
        out.variable = t.text.replace(/^\$/, '');
      } else if (t.type === 'member_access') {
        // [Console]::Out.Write(...): remember the type at the root.
        let r = t;
        while (r && r.type === 'member_access') r = r.namedChild(0);
        if (r && r.type === 'type_literal') {
          out.targetKind = 'type_member';
          out.type = typeName(r);
        }
      }
    }
    return out;
  }

  hashtable(node) {
    const keys = [];
    const body = node.namedChildren.find((c) => c.type === 'hash_literal_body');
    if (body) {
      for (const entry of body.namedChildren) {
        if (entry.type !== 'hash_entry') continue;
        const key = entry.namedChildren.find((c) => c.type === 'key_expression');
        const value = entry.namedChildren.find((c) => c.type !== 'key_expression' && c.type !== 'comment');
        let k = key ? key.text : '';
        if (key) {
          const kk = unwrap(key.namedChild(0) || key);
          if (kk && kk.type === 'string_literal') {
            const v = stringValue(kk);
            if (v !== null) k = v;
          }
        }
        keys.push({ key: k, ...pos(entry), value: value ? this.statementValue(value) : null });
      }
    }
    return { ...pos(node), text: clip(node.text), keys };
  }

  // statementValue classifies the value of a hash entry or an assignment:
  // a pipeline that is one expression gives that expression's kind; a
  // command gives kind "command" with its name.
  statementValue(node) {
    if (node.type === 'pipeline') {
      const chain = namedChildren(node);
      if (chain.length === 1 && chain[0].type === 'pipeline_chain') {
        const parts = namedChildren(chain[0]).filter((c) => c.type !== 'redirections');
        const last = parts[parts.length - 1];
        if (last && last.type === 'command') {
          return { kind: 'command', command: this.commandIndex.get(last.id), name: this.commandName(last).name, ...pos(last), text: clip(last.text) };
        }
        if (parts.length === 1) return this.classify(parts[0]);
      }
      return { kind: 'expression', ...pos(node), text: clip(node.text) };
    }
    return { kind: 'statement', node: node.type, ...pos(node), text: clip(node.text) };
  }

  assignment(node) {
    const left = node.namedChildren.find((c) => c.type === 'left_assignment_expression');
    const op = node.namedChildren.find((c) => c.type === 'assignement_operator');
    const value = node.childForFieldName('value');
    const out = {
      ...pos(node),
      target: left ? clip(left.text) : '',
      operator: op ? op.text : '=',
      value: value ? this.statementValue(value) : null,
    };
    let t = left ? unwrap(left) : null;
    if (t && t.type === 'cast_expression') {
      const tl = t.namedChildren.find((c) => c.type === 'type_literal');
      if (tl) out.castType = typeName(tl);
      t = unwrap(t.namedChildren.find((c) => c.type !== 'type_literal'));
    }
    if (t && t.type === 'expression_with_unary_operator') {
      const c = namedChildren(t);
      if (c.length === 1 && c[0].type === 'cast_expression') {
        const tl = c[0].namedChildren.find((x) => x.type === 'type_literal');
        if (tl) out.castType = typeName(tl);
        t = unwrap(c[0].namedChildren.find((x) => x.type !== 'type_literal'));
      }
    }
    if (t && t.type === 'variable') {
      out.variable = t.text.replace(/^\$/, '');
    } else if (t && t.type === 'element_access') {
      const v = unwrap(t.namedChild(0));
      const k = t.namedChild(1) ? unwrap(t.namedChild(1)) : null;
      if (v && v.type === 'variable') out.variable = v.text.replace(/^\$/, '');
      if (k && k.type === 'string_literal') {
        const s = stringValue(k);
        if (s !== null) out.key = s;
      }
    } else if (t && t.type === 'member_access') {
      const v = unwrap(t.namedChild(0));
      const m = t.namedChildren.find((c) => c.type === 'member_name');
      if (v && v.type === 'variable') out.variable = v.text.replace(/^\$/, '');
      if (m) out.member = m.text;
    }
    return out;
  }

  paramBlock(node) {
    const list = node.namedChildren.find((c) => c.type === 'parameter_list');
    const params = [];
    if (list) {
      for (const p of list.namedChildren) {
        if (p.type !== 'script_parameter') continue;
        const v = p.namedChildren.find((c) => c.type === 'variable');
        let type = '';
        const attrs = p.namedChildren.find((c) => c.type === 'attribute_list');
        if (attrs) {
          for (const a of attrs.namedChildren) {
            const tl = a.namedChildren.find((c) => c.type === 'type_literal');
            if (tl) type = typeName(tl);
          }
        }
        params.push({ name: v ? v.text.replace(/^\$/, '') : '', type, ...pos(p), text: clip(p.text) });
      }
    }
    return { ...pos(node), text: clip(node.text), params };
  }

  statementList(list) {
    return namedChildren(list).map((s) => this.statement(s)).filter((s) => s !== null);
  }

  // blocks lists the statement blocks that belong to a compound statement
  // (not those of statements nested inside them), labelled by clause.
  blocks(node, label) {
    const out = [];
    for (let i = 0; i < node.childCount; i++) {
      const c = node.child(i);
      if (!c.isNamed) continue;
      if (c.type === 'statement_block') {
        const list = c.namedChildren.find((x) => x.type === 'statement_list');
        out.push({ label, body: list ? this.statementList(list) : [] });
      } else if (Object.hasOwn(clauseLabels, c.type)) {
        out.push(...this.blocks(c, clauseLabels[c.type]));
      }
    }
    return out;
  }

  statement(node) {
    const base = { ...pos(node), text: clip(node.text) };
    switch (node.type) {
      case 'empty_statement':
        return null;
      case 'pipeline': {
        const parts = namedChildren(node);
        if (parts.length === 1 && parts[0].type === 'assignment_expression') {
          const a = parts[0];
          const value = a.childForFieldName('value');
          const left = a.namedChildren.find((c) => c.type === 'left_assignment_expression');
          return {
            kind: 'assignment',
            target: left ? clip(left.text) : '',
            value: value ? this.statement(value) : null,
            ...base,
          };
        }
        const elements = [];
        const redirections = [];
        for (const chain of parts) {
          if (chain.type !== 'pipeline_chain') continue;
          for (const p of namedChildren(chain)) {
            if (p.type === 'command') {
              const cmd = this.commands[this.commandIndex.get(p.id)];
              elements.push({ kind: 'command', command: cmd.id, name: cmd.name });
              redirections.push(...cmd.redirections);
            } else if (p.type === 'redirections') {
              for (const r of p.namedChildren) redirections.push(this.redirection(r));
            } else if (p.type === 'verbatim_command_argument') {
              continue;
            } else {
              elements.push({ kind: 'expression', expr: this.classify(p) });
            }
          }
        }
        return { kind: 'pipeline', elements, redirections, chained: parts.length > 1, ...base };
      }
      case 'flow_control_statement': {
        const keyword = (node.child(0) ? node.child(0).text : '').toLowerCase();
        const value = node.namedChildren.find((c) => c.type === 'pipeline');
        return { kind: 'flow', keyword, value: value ? this.statement(value) : null, ...base };
      }
      case 'if_statement':
        return { kind: 'if', blocks: this.blocks(node, 'if'), ...base };
      case 'foreach_statement':
      case 'for_statement':
      case 'while_statement':
      case 'do_statement':
        return { kind: 'loop', loop: node.type.replace('_statement', ''), blocks: this.blocks(node, 'body'), ...base };
      case 'switch_statement':
        return { kind: 'switch', blocks: this.blocks(node, 'clause'), ...base };
      case 'try_statement':
        return { kind: 'try', blocks: this.blocks(node, 'try'), ...base };
      case 'trap_statement':
        return { kind: 'trap', blocks: this.blocks(node, 'trap'), ...base };
      case 'function_statement':
        return this.functionStatement(node, base);
      default:
        return { kind: 'other', node: node.type, ...base };
    }
  }

  functionStatement(node, base) {
    const nameNode = node.namedChildren.find((c) => c.type === 'function_name');
    const params = [];
    const decl = node.namedChildren.find((c) => c.type === 'function_parameter_declaration');
    const sb = node.namedChildren.find((c) => c.type === 'script_block');
    const pb = decl || (sb ? sb.namedChildren.find((c) => c.type === 'param_block') : null);
    if (pb) params.push(...this.paramBlock(pb).params);
    let body = [];
    if (sb) {
      const sbb = sb.namedChildren.find((c) => c.type === 'script_block_body');
      if (sbb) {
        const list = sbb.namedChildren.find((c) => c.type === 'statement_list');
        if (list) body = this.statementList(list);
        else body = this.blocks(sbb, 'named').flatMap((b) => b.body);
      }
    }
    const fn = { name: nameNode ? nameNode.text : '', params, ...base };
    this.functions.push(fn);
    return { kind: 'function', name: fn.name, params, body, ...base };
  }
}

let parserPromise = null;

async function parser() {
  if (!parserPromise) {
    parserPromise = (async () => {
      await Parser.init();
      const lang = await Language.load(wasmPath);
      const p = new Parser();
      p.setLanguage(lang);
      return p;
    })();
  }
  return parserPromise;
}

export async function summarize(name, text) {
  const p = await parser();
  const tree = p.parse(text);
  try {
    return new Walker(tree, name).run();
  } finally {
    tree.delete();
  }
}

async function main(argv) {
  if (argv.length === 1 && argv[0] === '--batch') {
    const input = JSON.parse(readFileSync(0, 'utf8'));
    const out = [];
    for (const item of input) out.push(await summarize(item.name, item.text));
    process.stdout.write(JSON.stringify(out));
    return;
  }
  if (argv.length === 0 || argv.some((a) => a.startsWith('-'))) {
    process.stderr.write('usage: node parse.mjs FILE.ps1 [FILE.ps1 ...] | node parse.mjs --batch < in.json\n');
    process.exitCode = 2;
    return;
  }
  const out = [];
  for (const file of argv) out.push(await summarize(basename(file), readFileSync(file, 'utf8')));
  process.stdout.write(JSON.stringify(out.length === 1 ? out[0] : out, null, 2) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
    process.exitCode = 1;
  });
}
