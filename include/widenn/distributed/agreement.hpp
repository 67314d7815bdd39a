#pragma once
// The failure protocol of widenn's distributed code: a rank that fails must not leave the others waiting in a collective
// call. Every phase runs its local work inside collective_phase(); at the phase boundary all ranks agree (two
// MPI_Allreduce calls and, after a failure, two broadcasts from the lowest failing rank) and, if any rank failed, every
// rank throws the same exception: same type, same one-line message, naming the phase and the failing rank. No
// collective call is ever made by some ranks only: the body of a phase must not call collectives that another rank
// could skip by throwing before them.
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include <mpi.h>

#include "../core/errors.hpp"

namespace widenn::distributed {

// What went wrong on a rank, as the CLI maps it to an exit code: bad input (widenn::error, exit 2), a numerical failure
// (widenn::numerical_error, exit 1), anything else (exit 1).
enum class failure_kind : int { none = 0, bad_input = 1, numerical = 2, other = 3 };

struct failure {
    failure_kind kind = failure_kind::none;
    std::string message;
};

// The failure an exception describes (call inside a catch block or with std::current_exception()).
inline failure describe(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const numerical_error& x) {
        return {failure_kind::numerical, x.what()};
    } catch (const error& x) {
        return {failure_kind::bad_input, x.what()};
    } catch (const std::bad_alloc&) {
        return {failure_kind::other, "out of memory (std::bad_alloc)"};
    } catch (const std::exception& x) {
        return {failure_kind::other, x.what()};
    } catch (...) {
        return {failure_kind::other, "unknown exception"};
    }
}

// The exception all ranks throw after an agreed failure.
[[noreturn]] inline void throw_failure(failure_kind kind, const std::string& message) {
    if (kind == failure_kind::numerical) throw numerical_error(message);
    if (kind == failure_kind::bad_input) throw error(message);
    throw std::runtime_error(message);
}

// Collective: every rank of `comm` calls it with its own outcome of `phase`. Returns when no rank failed; otherwise
// throws on every rank the failure of the lowest failing rank, as one line:
//   "<phase> failed on rank R of P[ (and K other ranks)]: <message>", or "<phase> failed on all P ranks: <message>".
inline void agree(MPI_Comm comm, const failure& local, std::string_view phase) {
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const int failed = local.kind != failure_kind::none ? 1 : 0;
    int flags[2] = {failed ? rank : size, -failed}, agreed[2] = {0, 0};  // min rank that failed, −(any failed)
    MPI_Allreduce(flags, agreed, 2, MPI_INT, MPI_MIN, comm);
    if (agreed[0] == size) return;  // every rank took this branch together
    const int first = agreed[0];
    int failing = 0;
    MPI_Allreduce(&failed, &failing, 1, MPI_INT, MPI_SUM, comm);
    std::string text = local.message;
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';  // one line
    int header[2] = {static_cast<int>(local.kind), static_cast<int>(text.size())};
    MPI_Bcast(header, 2, MPI_INT, first, comm);
    text.resize(static_cast<std::size_t>(header[1]));
    if (header[1] > 0) MPI_Bcast(text.data(), header[1], MPI_CHAR, first, comm);
    std::string message(phase);
    if (failing == size && size > 1)  // e.g. a bad option, seen by every rank alike
        message += " failed on all " + std::to_string(size) + " ranks";
    else
        message += " failed on rank " + std::to_string(first) + " of " + std::to_string(size);
    if (failing > 1 && failing < size) message += " (and " + std::to_string(failing - 1) + " other rank" + (failing > 2 ? "s" : "") + ")";
    message += ": " + text;
    throw_failure(static_cast<failure_kind>(header[0]), message);
}

// Runs body() (local work only) on this rank, then agrees with the other ranks on the outcome (see agree()).
template <class Body>
void collective_phase(MPI_Comm comm, std::string_view phase, Body&& body) {
    failure local;
    try {
        body();
    } catch (...) {
        local = describe(std::current_exception());
        if (local.message.empty()) local.message = "(no message)";
    }
    agree(comm, local, phase);
}

}  // namespace widenn::distributed
