// grammar/Mhr.g4 — the .mhr language (docs/language.md is the reference; ../shared/design/LANGUAGE.md the
// contract). The generated parser is committed under grammar/generated/ (scripts/gen-grammar.sh), with this
// file's SHA-256 in grammar/generated/grammar.sha256; a test fails when they disagree. No actions here: the
// hand-written AST builder (compiler/parse/) is the only code that sees the parse tree.
grammar Mhr;

file : statement* EOF ;

// One top-level statement: the parser splits a file into statements first (compiler/parse/parser.cpp) so a
// syntax error never cascades into the next statement.
singleStatement : statement EOF ;

// Entry point for `--set KEY=VALUE` overrides and sweep values given on the command line.
overrideValue : value EOF ;

statement
  : experimentStmt
  | seedStmt
  | preservationStmt
  | includeStmt
  | datasetStmt
  | networkStmt
  | trainStmt
  | evaluateStmt
  | sweepStmt
  ;

experimentStmt   : EXPERIMENT STRING ;
seedStmt         : SEED INT ;
preservationStmt : PRESERVATION name ;
includeStmt      : INCLUDE STRING ;
datasetStmt      : DATASET name '=' call block? ;
networkStmt      : NETWORK name '=' ( call block? | MORPH name morphBlock ) ;
trainStmt        : TRAIN name ON path AT SIZE block ;
evaluateStmt     : EVALUATE name ON path AT SIZE block? ;
sweepStmt        : SWEEP block ;

// Attribute blocks: `{ key: value ... }`; newlines or `;` separate attributes.
block     : '{' ( attribute ';'? )* '}' ;
attribute : path ':' value ;

morphBlock : '{' ( morphStmt ';'? )* '}' ;
morphStmt
  : UPSCALE path BY INT                        # upscaleStmt
  | DEEPEN AFTER path WITH value               # deepenStmt
  | WIDEN widenTarget TO INT ( SPLIT value )?  # widenStmt
  | GROW KERNEL path TO SIZE                   # growStmt
  | ACTIVATION path TO value                   # activationStmt
  | REPLACE HEAD WITH call                     # replaceStmt
  | BRANCH path TO path WITH value             # branchStmt
  ;
widenTarget : path | '[' path ( ',' path )* ','? ']' ;

// Values. `a + b + c` is a layer sequence (`conv(3x3) + bn + prelu`); a single term is just that term.
value : term ( '+' term )* ;
term
  : MINUS? number   # numberTerm
  | STRING          # stringTerm
  | ( TRUE | FALSE )# boolTerm
  | SIZE            # sizeTerm
  | list            # listTerm
  | call            # callTerm
  | path            # pathTerm
  ;
number    : INT | FLOAT | QUANTITY ;
list      : '[' ( value ( ',' value )* ','? )? ']' ;
call      : name '(' ( argument ( ',' argument )* ','? )? ')' ;
argument  : ( name ':' )? value ;
path      : name | PATH ;
// Keywords are ordinary names where a name is expected (`seed: 7`, `kernel: 3`).
name
  : IDENT | EXPERIMENT | SEED | PRESERVATION | INCLUDE | DATASET | NETWORK | MORPH | TRAIN | EVALUATE
  | ON | AT | SWEEP | UPSCALE | BY | DEEPEN | AFTER | WITH | WIDEN | TO | SPLIT | GROW | KERNEL
  | ACTIVATION | REPLACE | HEAD | BRANCH
  ;

// ---- lexer ----
EXPERIMENT   : 'experiment' ;
SEED         : 'seed' ;
PRESERVATION : 'preservation' ;
INCLUDE      : 'include' ;
DATASET      : 'dataset' ;
NETWORK      : 'network' ;
MORPH        : 'morph' ;
TRAIN        : 'train' ;
EVALUATE     : 'evaluate' ;
ON           : 'on' ;
AT           : 'at' ;
SWEEP        : 'sweep' ;
UPSCALE      : 'upscale' ;
BY           : 'by' ;
DEEPEN       : 'deepen' ;
AFTER        : 'after' ;
WITH         : 'with' ;
WIDEN        : 'widen' ;
TO           : 'to' ;
SPLIT        : 'split' ;
GROW         : 'grow' ;
KERNEL       : 'kernel' ;
ACTIVATION   : 'activation' ;
REPLACE      : 'replace' ;
HEAD         : 'head' ;
BRANCH       : 'branch' ;
TRUE         : 'true' ;
FALSE        : 'false' ;

LBRACE : '{' ;
RBRACE : '}' ;
LPAREN : '(' ;
RPAREN : ')' ;
LBRACK : '[' ;
RBRACK : ']' ;
COLON  : ':' ;
SEMI   : ';' ;
COMMA  : ',' ;
EQUALS : '=' ;
PLUS   : '+' ;
MINUS  : '-' ;

// `512x416` (H x W) and `3x3`; listed before QUANTITY so the tie goes to SIZE.
SIZE     : DIGITS 'x' DIGITS ;
FLOAT    : DIGITS '.' DIGITS EXPONENT? | DIGITS EXPONENT ;
INT      : DIGITS ;
// A number with a unit: 15deg, 8GiB, 10%. Sema checks the unit.
QUANTITY : DIGITS ( '.' DIGITS )? EXPONENT? [a-zA-Z%]+ ;
// Dotted paths are one token, so `layer1.0.conv1` and `features.1.0.block` never lex as floats.
PATH     : IDENT_PART ( '.' ( IDENT_PART | DIGITS ) )+ ;
IDENT    : IDENT_PART ;
STRING   : '"' ( ~["\\\r\n] | '\\' ~[\r\n] )* '"' ;
UNTERMINATED_STRING : '"' ( ~["\\\r\n] | '\\' ~[\r\n] )* ;

COMMENT : '#' ~[\r\n]* -> channel(HIDDEN) ;
WS      : [ \t\r\n]+ -> skip ;
// Anything else becomes a token the parser rejects with a clear message (never a lexer crash).
ERROR_CHAR : . ;

fragment DIGITS     : [0-9]+ ;
fragment EXPONENT   : [eE] [+-]? DIGITS ;
fragment IDENT_PART : [A-Za-z_] [A-Za-z0-9_]* ;
