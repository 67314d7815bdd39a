// The documentation cannot drift from the code: every ```cpp block of README.md and docs/ appears verbatim in a
// compiled file (tests/docs/snippets.cpp, which test_docs builds and runs, or a program under examples/), and every
// file a header, example or page cites exists in the repository, down to the numbered section it names.
// Reads the source tree; its root is two levels above WIDENN_TEST_DATA_DIR (tests/data, see tests/CMakeLists.txt).
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <cctype>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace fs = std::filesystem;

namespace {

fs::path repository_root() { return fs::path(WIDENN_TEST_DATA_DIR).parent_path().parent_path(); }

std::string repo_relative(const fs::path& p) { return fs::relative(p, repository_root()).generic_string(); }

std::vector<std::string> read_lines(const fs::path& p) {
    std::ifstream in(p);
    REQUIRE_MESSAGE(in.good(), "cannot read ", p.string());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

// Files under `dir` (recursively) whose name ends with one of the suffixes, sorted.
std::vector<fs::path> files_under(const fs::path& dir, std::initializer_list<std::string> suffixes) {
    std::vector<fs::path> out;
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        const std::string name = entry.path().filename().string();
        for (const auto& s : suffixes)
            if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<fs::path> markdown_pages() {
    std::vector<fs::path> pages{repository_root() / "README.md"};
    for (auto& p : files_under(repository_root() / "docs", {".md"})) pages.push_back(p);
    return pages;
}

struct block {
    fs::path page;
    std::size_t line;  // 1-based line of the opening fence
    std::vector<std::string> lines;
};

// The ```cpp blocks of a page (other fences, e.g. ```sh or ```cmake, are not C++ programs and are not checked).
std::vector<block> cpp_blocks(const fs::path& page) {
    const auto lines = read_lines(page);
    std::vector<block> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i] != "```cpp") continue;
        block b{page, i + 1, {}};
        std::size_t j = i + 1;
        while (j < lines.size() && lines[j].rfind("```", 0) != 0) b.lines.push_back(lines[j++]);
        REQUIRE_MESSAGE(j < lines.size(), repo_relative(page), ":", i + 1, ": unterminated ```cpp block");
        out.push_back(std::move(b));
        i = j;
    }
    return out;
}

bool contains_lines(const std::vector<std::string>& haystack, const std::vector<std::string>& needle) {
    if (needle.empty()) return true;
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// Where the copy of a block between "// BEGIN <page> block <n>" and "// END <page> block <n>" first differs from the
// block, as a sentence (empty if there is no such copy).
std::string first_difference(const std::vector<std::string>& file, const std::string& page, std::size_t n,
                             const std::vector<std::string>& block) {
    const std::string begin = "// BEGIN " + page + " block " + std::to_string(n) + " ";
    const std::string end = "// END " + page + " block " + std::to_string(n);
    const auto first = std::find_if(file.begin(), file.end(), [&](const std::string& l) { return l.rfind(begin, 0) == 0; });
    if (first == file.end()) return {};
    const auto last = std::find(first, file.end(), end);
    const std::vector<std::string> copy(first + 1, last);
    for (std::size_t i = 0; i < std::max(copy.size(), block.size()); ++i) {
        const std::string a = i < block.size() ? block[i] : "(end of block)";
        const std::string b = i < copy.size() ? copy[i] : "(end of copy)";
        if (a != b)
            return "line " + std::to_string(i + 1) + " of the block is \"" + a + "\" but the copy in tests/docs has \"" + b + "\"";
    }
    return {};
}

}  // namespace

TEST_CASE("every ```cpp block of README.md and docs/ is compiled: it appears verbatim in tests/docs or examples/") {
    std::vector<std::pair<fs::path, std::vector<std::string>>> compiled;
    for (const auto& p : files_under(repository_root() / "tests" / "docs", {".cpp"})) compiled.emplace_back(p, read_lines(p));
    for (const auto& p : files_under(repository_root() / "examples", {".cpp"})) compiled.emplace_back(p, read_lines(p));
    REQUIRE(compiled.size() >= 2);

    std::size_t blocks = 0;
    for (const auto& page : markdown_pages()) {
        std::size_t n = 0;
        for (const auto& b : cpp_blocks(page)) {
            ++blocks;
            ++n;
            const bool found = std::any_of(compiled.begin(), compiled.end(),
                                           [&](const auto& file) { return contains_lines(file.second, b.lines); });
            if (found) continue;
            std::string difference;
            for (const auto& file : compiled)
                if (difference.empty()) difference = first_difference(file.second, repo_relative(page), n, b.lines);
            FAIL_CHECK(repo_relative(b.page) << ":" << b.line << ": ```cpp block " << n
                                             << " is not, line for line, in tests/docs/*.cpp or examples/**/*.cpp"
                                             << (difference.empty() ? "" : ": " + difference)
                                             << ". Paste the block between its BEGIN and END lines in tests/docs/snippets.cpp "
                                                "(or add it there), so that it is compiled and run");
        }
    }
    CHECK(blocks >= 12);  // README and the area pages have at least this many today; a broken parser finds none
}

TEST_CASE("the block finder sees fences as the pages write them") {
    const fs::path scratch = fs::temp_directory_path() / "widenn_test_docs_blocks.md";
    {
        std::ofstream out(scratch);
        out << "text\n```cpp\nint a = 1;  \n```\n```sh\nls\n```\n```cpp\n```\n";
    }
    const auto blocks = cpp_blocks(scratch);
    fs::remove(scratch);
    REQUIRE(blocks.size() == 2);
    CHECK(blocks[0].line == 2);
    CHECK(blocks[0].lines == std::vector<std::string>{"int a = 1;"});  // trailing blanks do not count
    CHECK(blocks[1].lines.empty());
    CHECK(contains_lines({"x", "int a = 1;", "y"}, blocks[0].lines));
    CHECK_FALSE(contains_lines({"x", "int a = 2;"}, blocks[0].lines));
}

namespace {

// The files whose comments and text must cite only what ships: headers, examples, pages and tests (but not this
// file, whose string literals name what is forbidden).
std::vector<fs::path> citing_files() {
    std::vector<fs::path> out = markdown_pages();
    for (auto& p : files_under(repository_root() / "include", {".hpp"})) out.push_back(p);
    for (auto& p : files_under(repository_root() / "examples", {".cpp", ".hpp"})) out.push_back(p);
    for (auto& p : files_under(repository_root() / "tests", {".cpp", ".hpp"}))
        if (p.filename() != "sources.cpp" || p.parent_path().filename() != "docs") out.push_back(p);
    return out;
}

bool has_numbered_heading(const fs::path& page, int section) {
    const std::string number = std::to_string(section) + ". ";
    for (const auto& l : read_lines(page)) {
        const std::size_t hashes = l.find_first_not_of('#');
        if (hashes == 0 || hashes == std::string::npos || l[hashes] != ' ') continue;
        if (l.compare(hashes + 1, number.size(), number) == 0) return true;
    }
    return false;
}

bool is_path_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-';
}

struct md_citation {
    std::string token;     // e.g. docs/theory/kernel-limits.md
    std::size_t start;     // its position in the line
    std::vector<int> sections;  // the § numbers that follow it: "§3", "§1-4", "§2, §5", "§2 and §5"
};

// Parses "§N", "§N-M" or "§N–M" at position i (after optional blanks and one "," or "and"); returns false if absent.
bool parse_section(const std::string& s, std::size_t& i, std::vector<int>& out) {
    std::size_t k = i;
    const auto blanks = [&] { while (k < s.size() && s[k] == ' ') ++k; };
    const auto number = [&](int& n) {
        const std::size_t from = k;
        n = 0;
        while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) n = 10 * n + (s[k++] - '0');
        return k > from;
    };
    blanks();
    if (s.compare(k, 1, ",") == 0) ++k;
    else if (s.compare(k, 4, "and ") == 0) k += 4;
    blanks();
    if (s.compare(k, 2, "§") != 0) return false;
    k += 2;
    blanks();
    int first = 0, last = 0;
    if (!number(first)) return false;
    last = first;
    const std::size_t before_range = k;
    blanks();
    if (s.compare(k, 1, "-") == 0 || s.compare(k, 3, "–") == 0) {
        k += s[k] == '-' ? 1 : 3;
        blanks();
        if (!number(last)) {
            k = before_range;
            last = first;
        }
    } else {
        k = before_range;
    }
    for (int n = first; n <= last; ++n) out.push_back(n);
    i = k;
    return true;
}

// Every word ending in ".md" (not inside a URL), with the sections cited right after it.
std::vector<md_citation> md_citations(const std::string& line) {
    std::vector<md_citation> out;
    for (std::size_t at = line.find(".md"); at != std::string::npos; at = line.find(".md", at + 3)) {
        const std::size_t end = at + 3;
        if (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_')) continue;
        std::size_t start = at;
        while (start > 0 && is_path_char(line[start - 1])) --start;
        if (start == at) continue;
        std::size_t word = start;  // a URL is a word containing "://"
        while (word > 0 && line[word - 1] != ' ' && line[word - 1] != '(' && line[word - 1] != '`') --word;
        if (line.substr(word, end - word).find("://") != std::string::npos) continue;
        md_citation c{line.substr(start, end - start), start, {}};
        std::size_t i = end;
        while (parse_section(line, i, c.sections)) {
        }
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace

namespace {

constexpr std::string_view dependency_prefixes[] = {"xtensor/", "xtensor-blas/", "xtl/", "xsimd/", "doctest/", "benchmark/", "pybind11/"};

// Paths such as tests/act/duals.cpp or limit/kernel.hpp named in a line (words with a '/' ending in the extension).
std::vector<std::string> source_paths(const std::string& line, const std::string& extension) {
    std::vector<std::string> out;
    for (std::size_t at = line.find(extension); at != std::string::npos; at = line.find(extension, at + 1)) {
        const std::size_t end = at + extension.size();
        if (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_')) continue;
        std::size_t start = at;
        while (start > 0 && is_path_char(line[start - 1])) --start;
        const std::string token = line.substr(start, end - start);
        // Headers of the dependencies (xtensor/xview.hpp, pybind11/numpy.h ...) are not files of the repository.
        const bool dependency = std::any_of(std::begin(dependency_prefixes), std::end(dependency_prefixes),
                                            [&](std::string_view prefix) { return token.rfind(prefix, 0) == 0; });
        if (start < at && !dependency && token.find('/') != std::string::npos && token.rfind("../", 0) != 0) out.push_back(token);
    }
    return out;
}

}  // namespace

TEST_CASE("the pages name only source files that exist") {
    std::size_t named = 0;
    for (const auto& page : markdown_pages()) {
        const auto lines = read_lines(page);
        for (std::size_t i = 0; i < lines.size(); ++i)
            for (const std::string extension : {".cpp", ".hpp", ".sh"})
                for (const auto& token : source_paths(lines[i], extension)) {
                    ++named;
                    const fs::path root = repository_root();
                    const bool exists = fs::is_regular_file(root / token) || fs::is_regular_file(root / "include" / "widenn" / token) ||
                                        fs::is_regular_file(root / "include" / token) || fs::is_regular_file(root / "examples" / token);
                    CHECK_MESSAGE(exists, repo_relative(page), ":", i + 1, ": names ", token,
                                  ", which is not a file of the repository (looked in ., include/widenn/, include/, examples/)");
                }
    }
    CHECK(named > 20);
}

TEST_CASE("the citation finder reads files and sections as headers write them") {
    const auto c = md_citations("see docs/theory/a.md §2-4, §7 and §9; x (b.md) §1 https://h.org/c.md notes.mdx");
    REQUIRE(c.size() == 2);
    CHECK(c[0].token == "docs/theory/a.md");
    CHECK(c[0].sections == std::vector<int>{2, 3, 4, 7, 9});
    CHECK(c[1].token == "b.md");
    CHECK(c[1].sections.empty());  // ")" ends the citation
    const auto d = md_citations("(x.md §1–2) and y.md, §3");
    REQUIRE(d.size() == 2);
    CHECK(d[0].sections == std::vector<int>{1, 2});
    CHECK(d[1].sections == std::vector<int>{3});
}

TEST_CASE("headers, examples, pages and tests cite only files of the repository, and sections that exist") {
    const std::vector<std::string> outside = {"/work/", "/home/", "shared/reference", "reference/checks", "reference §"};
    std::size_t citations = 0;
    for (const auto& file : citing_files()) {
        const bool is_page = file.extension() == ".md";
        const auto lines = read_lines(file);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const std::string& line = lines[i];
            for (const auto& s : outside)
                if (line.find(s) != std::string::npos) {
                    const std::string where = repo_relative(file) + ":" + std::to_string(i + 1);
                    FAIL_CHECK(where << ": names \"" << s << "\", a place outside the repository");
                }
            for (const auto& c : md_citations(line)) {
                // Pages link relative to themselves (or name a path from the root); code names paths from the root.
                std::vector<fs::path> candidates{repository_root() / c.token};
                if (is_page) candidates.push_back(file.parent_path() / c.token);
                const auto target = std::find_if(candidates.begin(), candidates.end(),
                                                 [](const fs::path& p) { return fs::is_regular_file(p); });
                ++citations;
                CHECK_MESSAGE(target != candidates.end(), repo_relative(file), ":", i + 1, ": cites \"", c.token,
                              "\", which is not a file of the repository (code cites paths from the repository root, "
                              "e.g. docs/theory/kernel-limits.md)");
                if (target == candidates.end()) continue;
                for (int s : c.sections)
                    CHECK_MESSAGE(has_numbered_heading(*target, s), repo_relative(file), ":", i + 1, ": cites ", c.token,
                                  " §", s, ", but that page has no heading \"## ", s, ". ...\"");
            }
        }
    }
    CHECK(citations > 20);  // the headers cite docs/theory/ pages; a broken scanner finds none
}
