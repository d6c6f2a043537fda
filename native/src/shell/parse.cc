// Shell parsing for the gate: tree-sitter-bash over tree-sitter's C runtime, returned as one flat
// preorder array so the JS walk (src/gate/flat-tree.ts) reads typed arrays instead of calling into
// a parser per node. Layout (Uint32Array), mirrored in src/platform/native.ts:
//
//   [0] flags: bit 0 = the root has an error (ERROR or MISSING node somewhere)
//   [1] node count N
//   then N records of kShellStride words, in preorder (a node's first child is the next record):
//     symbol   ts_node_symbol (the public, alias-resolved symbol: web-tree-sitter's nodeTypeId)
//     start    first UTF-16 code unit of the node in the source string
//     end      one past its last UTF-16 code unit
//     size     records in the node's subtree, itself included (next sibling = index + size)
//     parent   record index of the parent; 0xFFFFFFFF for the root
//
// Offsets are UTF-16 code units because the source is parsed as UTF-16LE straight from the JS
// string: they index the JS string directly, exactly as web-tree-sitter's startIndex/endIndex do.
//
// parseShellFlat(source) returns a new Uint32Array; parseShellFlat(source, out, offset) writes the
// same words into `out` from `offset` and returns the offset after them (or minus the words needed
// when they do not fit), so the gate parses into one reused buffer and allocates nothing per line.
#include <napi.h>
#include <tree_sitter/api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "boundary.h"
#include "extensions.h"

extern "C" const TSLanguage* tree_sitter_bash(void);

namespace forge {
namespace {

constexpr uint32_t kShellStride = 5;
constexpr uint32_t kShellHeader = 2;
constexpr uint32_t kNoParent = 0xFFFFFFFFu;
// Beyond this the gate has long since refused the line (its limit is 16 Ki characters); the
// cap keeps a caller that skips the gate from making us parse gigabytes.
constexpr size_t kMaxSourceUnits = 1u << 24;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
constexpr TSInputEncoding kUtf16Native = TSInputEncodingUTF16BE;
#else
constexpr TSInputEncoding kUtf16Native = TSInputEncodingUTF16LE;
#endif

// One parser per thread (the main thread, or a worker's): a TSParser is not thread-safe, and
// reusing it keeps its stacks and lexer buffers warm between lines.
struct ThreadState {
  TSParser* parser = nullptr;
  std::u16string source;
  std::vector<uint32_t> records;
  std::vector<uint32_t> open;  // record indices of the ancestors of the cursor's node
  ThreadState() {
    parser = ts_parser_new();
    if (parser != nullptr && !ts_parser_set_language(parser, tree_sitter_bash())) {
      ts_parser_delete(parser);
      parser = nullptr;
    }
  }
  ~ThreadState() {
    if (parser != nullptr) ts_parser_delete(parser);
  }
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;
};

ThreadState& State() {
  thread_local ThreadState state;
  if (state.parser == nullptr)
    throw NativeError(kUnavailable, "the bash grammar is incompatible with the tree-sitter runtime");
  return state;
}

// Frees the tree on every path out, exceptions included.
struct TreeGuard {
  TSTree* tree;
  ~TreeGuard() { ts_tree_delete(tree); }
};
struct CursorGuard {
  TSTreeCursor* cursor;
  ~CursorGuard() { ts_tree_cursor_delete(cursor); }
};

void Flatten(TSTree* tree, ThreadState& st) {
  std::vector<uint32_t>& out = st.records;
  out.clear();
  out.push_back(ts_node_has_error(ts_tree_root_node(tree)) ? 1u : 0u);
  out.push_back(0);
  std::vector<uint32_t>& open = st.open;
  open.clear();
  TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(tree));
  CursorGuard guard{&cursor};
  uint32_t count = 0;
  auto size = [&](uint32_t index) -> uint32_t& { return out[kShellHeader + index * kShellStride + 3]; };
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    uint32_t index = count++;
    out.push_back(ts_node_symbol(node));
    // Byte offsets into UTF-16 input are twice the code-unit index.
    out.push_back(ts_node_start_byte(node) / 2);
    out.push_back(ts_node_end_byte(node) / 2);
    out.push_back(1);
    out.push_back(open.empty() ? kNoParent : open.back());
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      open.push_back(index);
      continue;
    }
    // A leaf: climb until some ancestor has a next sibling, closing each subtree on the way.
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (open.empty() || !ts_tree_cursor_goto_parent(&cursor)) {
        out[1] = count;
        return;
      }
      uint32_t done = open.back();
      open.pop_back();
      size(done) = count - done;
    }
  }
}

Napi::Value ParseShellFlatJs(const Napi::CallbackInfo& info) {
  RequireArgCount(info, "parseShellFlat", 1, 3);
  if (!info[0].IsString()) ThrowBadArgument("parseShellFlat: source must be a string");
  Napi::Env env = info.Env();
  bool into = info.Length() >= 2 && !info[1].IsUndefined();
  uint32_t* out = nullptr;
  size_t capacity = 0;
  size_t offset = 0;
  if (into) {
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      ThrowBadArgument("parseShellFlat: out must be a Uint32Array");
    Napi::Uint32Array array = info[1].As<Napi::Uint32Array>();
    out = array.Data();
    capacity = array.ElementLength();
    double at = info.Length() >= 3 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
    if (!(at >= 0 && at <= static_cast<double>(capacity)) || at != static_cast<double>(static_cast<size_t>(at)))
      ThrowBadArgument("parseShellFlat: offset must be an integer within out");
    offset = static_cast<size_t>(at);
  }
  ThreadState& st = State();
  size_t units = 0;
  if (napi_get_value_string_utf16(env, info[0], nullptr, 0, &units) != napi_ok)
    ThrowBadArgument("parseShellFlat: source must be a string");
  if (units > kMaxSourceUnits)
    ThrowBadArgument("parseShellFlat: source is over " + std::to_string(kMaxSourceUnits) + " UTF-16 code units");
  st.source.resize(units + 1);
  size_t copied = 0;
  napi_get_value_string_utf16(env, info[0], st.source.data(), units + 1, &copied);
  TSTree* tree = ts_parser_parse_string_encoding(st.parser, nullptr, reinterpret_cast<const char*>(st.source.data()),
                                                 static_cast<uint32_t>(copied * 2), kUtf16Native);
  if (tree == nullptr) throw NativeError(kInternal, "parseShellFlat: the parser returned no tree");
  {
    TreeGuard guard{tree};
    Flatten(tree, st);
  }
  size_t words = st.records.size();
  if (into) {
    // Too small: say how many words it takes (negative); the caller grows the array and retries.
    if (capacity - offset < words) return Napi::Number::New(env, -static_cast<double>(words));
    std::copy(st.records.begin(), st.records.end(), out + offset);
    return Napi::Number::New(env, static_cast<double>(offset + words));
  }
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, words * sizeof(uint32_t));
  std::copy(st.records.begin(), st.records.end(), static_cast<uint32_t*>(buffer.Data()));
  return Napi::Uint32Array::New(env, words, buffer, 0);
}

// The grammar's symbol table, as web-tree-sitter's Language exposes it: names[i] for visible
// symbols (regular and anonymous), null for the others; named[i] for regular ones.
Napi::Value ShellGrammarJs(const Napi::CallbackInfo& info) {
  RequireArgCount(info, "shellGrammar", 0, 0);
  Napi::Env env = info.Env();
  const TSLanguage* lang = tree_sitter_bash();
  uint32_t count = ts_language_symbol_count(lang);
  Napi::Array names = Napi::Array::New(env, count);
  Napi::Array named = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) {
    TSSymbolType type = ts_language_symbol_type(lang, static_cast<TSSymbol>(i));
    const char* name = ts_language_symbol_name(lang, static_cast<TSSymbol>(i));
    bool visible = type == TSSymbolTypeRegular || type == TSSymbolTypeAnonymous;
    names.Set(i, visible && name != nullptr ? Napi::Value(Napi::String::New(env, name)) : env.Null());
    named.Set(i, Napi::Boolean::New(env, type == TSSymbolTypeRegular));
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("names", names);
  o.Set("named", named);
  o.Set("abiVersion", static_cast<double>(ts_language_abi_version(lang)));
  o.Set("stride", static_cast<double>(kShellStride));
  o.Set("header", static_cast<double>(kShellHeader));
  return o;
}

void AddShellExports(Napi::Env env, Napi::Object exports) {
  exports.Set("parseShellFlat", Napi::Function::New<Guarded<ParseShellFlatJs>>(env, "parseShellFlat"));
  exports.Set("shellGrammar", Napi::Function::New<Guarded<ShellGrammarJs>>(env, "shellGrammar"));
}

ExportRegistration shell_exports(AddShellExports);

}  // namespace
}  // namespace forge
