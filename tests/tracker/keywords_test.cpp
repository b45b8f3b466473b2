// tests/tracker/keywords_test.cpp — the report's .mhr highlighter colours exactly the grammar's keywords.
// In: grammar/Mhr.g4 (its path comes from CMake as MHR_GRAMMAR_FILE); the keywords are the word-like
// quoted literals that stand alone as a lexer rule (`SEED : 'seed' ;`) or appear in a parser rule.
// Literals inside a larger lexer rule (the 'x' of `SIZE : DIGITS 'x' DIGITS`) are parts of other tokens.
#include "tracker/report.h"

#include "tests/tracker/test_util.h"

#include <cctype>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>

namespace mhr::tracker {
namespace {

struct Rule {
  std::string name, body;
};

// Splits a grammar into its rules (`name : body ;`), dropping // comments and the `grammar X;` header.
// Quoted literals and [...] sets are skipped whole, so the ';' or ':' inside them do not end anything.
std::vector<Rule> grammarRules(const std::string& text) {
  std::vector<Rule> rules;
  std::string current;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
      current += '\n';
      continue;
    }
    if (c == '\'' || c == '[') {
      const char close = c == '\'' ? '\'' : ']';
      size_t j = i + 1;
      while (j < text.size() && text[j] != close) j += text[j] == '\\' ? 2 : 1;
      current += text.substr(i, j + 1 - i);
      i = j;
      continue;
    }
    if (c != ';') {
      current += c;
      continue;
    }
    const size_t colon = current.find(':');
    std::string head = current.substr(0, colon == std::string::npos ? current.size() : colon);
    std::string name;
    for (char h : head) {
      if (std::isalnum(static_cast<unsigned char>(h)) || h == '_') {
        name += h;
      } else if (!name.empty()) {
        name += ' ';
      }
    }
    // "grammar Mhr" and "fragment DIGITS": the rule's name is the last word.
    while (!name.empty() && name.back() == ' ') name.pop_back();
    const bool isHeader = colon == std::string::npos;
    if (!isHeader) rules.push_back({name.substr(name.rfind(' ') + 1), current.substr(colon + 1)});
    current.clear();
  }
  return rules;
}

bool isWord(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::vector<std::string> literals(const std::string& body) {
  std::vector<std::string> out;
  for (size_t i = body.find('\''); i != std::string::npos; i = body.find('\'', i)) {
    size_t j = i + 1;
    while (j < body.size() && body[j] != '\'') j += body[j] == '\\' ? 2 : 1;
    out.push_back(body.substr(i + 1, j - i - 1));
    i = j + 1;
  }
  return out;
}

std::string trimmed(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::set<std::string> grammarKeywords(const std::string& grammar) {
  std::set<std::string> keywords;
  for (const Rule& rule : grammarRules(grammar)) {
    const bool lexerRule = std::isupper(static_cast<unsigned char>(rule.name[0]));
    for (const std::string& literal : literals(rule.body)) {
      if (!isWord(literal)) continue;
      if (!lexerRule || trimmed(rule.body) == "'" + literal + "'") keywords.insert(literal);
    }
  }
  return keywords;
}

TEST(MhrKeywords, ReaderSplitsRulesAndKeepsOnlyStandaloneWords) {
  const std::string grammar = "grammar G; // 'notakeyword'\n"
                              "stmt : KW name ';' | 'inline' '=' ; // a ';' in a comment\n"
                              "KW : 'kw' ;\n"
                              "SIZE : DIGITS 'x' DIGITS ;\n"
                              "STR : '\"' ( ~[\"\\\\;] )* '\"' ;\n"
                              "fragment DIGITS : [0-9]+ ;\n";
  std::vector<Rule> rules = grammarRules(grammar);
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].name, "stmt");
  EXPECT_EQ(rules[4].name, "DIGITS");
  EXPECT_EQ(grammarKeywords(grammar), (std::set<std::string>{"inline", "kw"}));
}

TEST(MhrKeywords, HighlighterMatchesTheGrammar) {
  const std::set<std::string> grammar = grammarKeywords(testing::readText(MHR_GRAMMAR_FILE));
  ASSERT_GT(grammar.size(), 20u) << "too few keywords read from " << MHR_GRAMMAR_FILE;
  for (const std::string& word : grammar) EXPECT_TRUE(mhrKeywords().count(word)) << "not coloured: " << word;
  for (const std::string& word : mhrKeywords()) EXPECT_TRUE(grammar.count(word)) << "not a keyword: " << word;
}

} // namespace
} // namespace mhr::tracker
