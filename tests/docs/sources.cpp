// The documentation cannot drift from the code: every ```cpp block of README.md and docs/ appears verbatim in a
// compiled file (tests/docs/snippets.cpp, which test_docs builds and runs, or a program under examples/), and every
// file a header, example or page cites exists in the repository, down to the numbered section it names.
// Reads the source tree; its root is two levels above WIDENN_TEST_DATA_DIR (tests/data, see tests/CMakeLists.txt).
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
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

}  // namespace

TEST_CASE("every ```cpp block of README.md and docs/ is compiled: it appears verbatim in tests/docs or examples/") {
    std::vector<std::pair<fs::path, std::vector<std::string>>> compiled;
    for (const auto& p : files_under(repository_root() / "tests" / "docs", {".cpp"})) compiled.emplace_back(p, read_lines(p));
    for (const auto& p : files_under(repository_root() / "examples", {".cpp"})) compiled.emplace_back(p, read_lines(p));
    REQUIRE(compiled.size() >= 2);

    std::size_t blocks = 0;
    for (const auto& page : markdown_pages()) {
        for (const auto& b : cpp_blocks(page)) {
            ++blocks;
            const bool found = std::any_of(compiled.begin(), compiled.end(),
                                           [&](const auto& file) { return contains_lines(file.second, b.lines); });
            CHECK_MESSAGE(found, repo_relative(b.page), ":", b.line,
                          ": this ```cpp block is not, line for line, in tests/docs/*.cpp or examples/**/*.cpp; "
                          "copy the changed block into tests/docs/snippets.cpp so that it is compiled and run");
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
    const std::regex heading("^#+ " + std::to_string(section) + "\\. ");
    const auto lines = read_lines(page);
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return std::regex_search(l, heading); });
}

}  // namespace

TEST_CASE("headers, examples, pages and tests cite only files of the repository, and sections that exist") {
    const std::vector<std::string> outside = {"/work/", "/home/", "shared/reference", "reference/checks", "reference §"};
    const std::regex md_token(R"(([A-Za-z0-9_./\-]+\.md)\b)");
    const std::regex section_ref(R"(^\s*(?:,|and)?\s*§\s?(\d+)(?:\s?(?:-|–)\s?(\d+))?)");
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
            for (auto it = std::sregex_iterator(line.begin(), line.end(), md_token); it != std::sregex_iterator(); ++it) {
                const std::string token = (*it)[1].str();
                const auto start = static_cast<std::size_t>(it->position(1));
                const std::size_t word = line.find_last_of(" (`<\"'", start == 0 ? 0 : start - 1);
                const std::string before = line.substr(word == std::string::npos ? 0 : word, start - (word == std::string::npos ? 0 : word));
                if (before.find("://") != std::string::npos) continue;  // a URL, not a file of this repository
                // Pages link relative to themselves (or name a path from the root); code names paths from the root.
                std::vector<fs::path> candidates{repository_root() / token};
                if (is_page) candidates.push_back(file.parent_path() / token);
                const auto target = std::find_if(candidates.begin(), candidates.end(),
                                                 [](const fs::path& p) { return fs::is_regular_file(p); });
                ++citations;
                CHECK_MESSAGE(target != candidates.end(), repo_relative(file), ":", i + 1, ": cites \"", token,
                              "\", which is not a file of the repository (code cites paths from the repository root, "
                              "e.g. docs/theory/kernel-limits.md)");
                if (target == candidates.end()) continue;
                // "docs/theory/x.md §3", "§1-4", "§2, §5": each section must be a numbered heading of the page.
                std::string rest = line.substr(start + token.size());
                std::smatch m;
                while (std::regex_search(rest, m, section_ref)) {
                    const int first = std::stoi(m[1].str());
                    const int last = m[2].matched ? std::stoi(m[2].str()) : first;
                    for (int s = first; s <= last; ++s)
                        CHECK_MESSAGE(has_numbered_heading(*target, s), repo_relative(file), ":", i + 1, ": cites ", token,
                                      " §", s, ", but that page has no heading \"## ", s, ". ...\"");
                    rest = m.suffix().str();
                }
            }
        }
    }
    CHECK(citations > 20);  // the headers cite docs/theory/ pages; a broken scanner finds none
}
