#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <widenn/io/plot.hpp>

TEST_CASE("csv_writer writes the header and rows, and refuses a row of the wrong length") {
    const std::string path = "widenn_test_plot.csv";
    {
        widenn::io::csv_writer csv(path, {"width", "l1"});
        csv.row(128, 0.5);
        csv.row(256, 0.25);
        CHECK_THROWS_AS(csv.row(1), widenn::shape_error);
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == "width,l1\n128,0.5\n256,0.25\n");
    std::remove(path.c_str());
    CHECK_THROWS_AS(widenn::io::csv_writer("/nonexistent-dir/x.csv", {"a"}), widenn::error);
}

TEST_CASE("gnuplot_quote doubles single quotes") {
    CHECK(widenn::io::gnuplot_quote("it's.png") == "'it''s.png'");
}
