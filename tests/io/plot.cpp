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
        CHECK_THROWS_AS(csv.row_of({"1", "2", "3"}), widenn::shape_error);
        csv.row_of({"512", "x"});  // preformatted fields, for a header built at run time
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == "width,l1\n128,0.5\n256,0.25\n512,x\n");
    {
        widenn::io::csv_writer csv(path, std::vector<std::string>{"rotation", "model a", "model b"});
        csv.row(0, 0.5, 0.25);
    }
    std::ifstream again(path);
    std::stringstream text2;
    text2 << again.rdbuf();
    CHECK(text2.str() == "rotation,model a,model b\n0,0.5,0.25\n");
    {  // fields holding commas, quotes or line breaks are quoted (RFC 4180), so every row keeps its column count
        widenn::io::csv_writer csv(path, {"model", "note", "accuracy"});
        csv.row("CNN conv:3,relu,flatten", std::string("say \"hi\""), 0.5);
        csv.row_of({"two\nlines", "plain", "1"});
    }
    std::ifstream quoted(path);
    std::stringstream text3;
    text3 << quoted.rdbuf();
    CHECK(text3.str() == "model,note,accuracy\n\"CNN conv:3,relu,flatten\",\"say \"\"hi\"\"\",0.5\n\"two\nlines\",plain,1\n");
    std::remove(path.c_str());
    CHECK_THROWS_AS(widenn::io::csv_writer("/nonexistent-dir/x.csv", {"a"}), widenn::error);
}

TEST_CASE("gnuplot_quote doubles single quotes") {
    CHECK(widenn::io::gnuplot_quote("it's.png") == "'it''s.png'");
}
