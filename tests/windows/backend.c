/* A tiny Pixi build backend for Windows, for the tests (built with x86_64-w64-mingw32-gcc).

   With no arguments it speaks JSON-RPC 2.0 on stdin/stdout, one object per line, and answers
   negotiateCapabilities, as the POSIX demo backends do; like them it refuses to start unless
   its environment is activated (DEMO_RUNTIME_ACTIVE=1 from an activate.d script).
   With arguments it reports, as one line of JSON in UTF-8, the command line it got, its
   arguments as Windows splits them (CommandLineToArgvW) and a few variables, then exits with
   N when the first argument is --exit=N, else 0. */
#include <windows.h>
#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(const char *bytes, DWORD size) {
    DWORD done;
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), bytes, size, &done, NULL);
}

static void put_json(const wchar_t *text) {
    char buffer[4 * 32768 + 8];
    put("\"", 1);
    for (; text && *text; text++) {
        wchar_t c = *text;
        if (c == L'"' || c == L'\\') {
            char esc[2] = {'\\', (char)c};
            put(esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
            put(esc, 6);
        } else {
            /* one UTF-16 unit, or a surrogate pair, to UTF-8 */
            int units = (c >= 0xD800 && c <= 0xDBFF && text[1]) ? 2 : 1;
            int size = WideCharToMultiByte(CP_UTF8, 0, text, units, buffer, 8, NULL, NULL);
            put(buffer, (DWORD)size);
            text += units - 1;
        }
    }
    put("\"", 1);
}

static void put_variable(const wchar_t *name) {
    static wchar_t value[32768];
    DWORD size = GetEnvironmentVariableW(name, value, 32768);
    put_json(name);
    put(":", 1);
    if (size == 0 && GetLastError() == ERROR_ENVVAR_NOT_FOUND)
        put("null", 4);
    else
        put_json(value);
}

static int report(void) {
    const wchar_t *names[] = {L"DEMO_RUNTIME_ACTIVE", L"DEMO_RUNTIME_FLAVOR", L"CONDA_PREFIX",
                              L"PATH", L"CPB_TEST_MARK"};
    wchar_t *line = GetCommandLineW();
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(line, &argc);
    put("{\"cmdline\":", 11);
    put_json(line);
    put(",\"argv\":[", 9);
    for (int i = 1; i < argc; i++) {
        if (i > 1) put(",", 1);
        put_json(argv[i]);
    }
    put("],\"env\":{", 9);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (i) put(",", 1);
        put_variable(names[i]);
    }
    put("}}\n", 3);
    return argc > 1 && wcsncmp(argv[1], L"--exit=", 7) == 0 ? _wtoi(argv[1] + 7) : 0;
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc > 1) return report();
    const char *active = getenv("DEMO_RUNTIME_ACTIVE");
    if (!active || strcmp(active, "1") != 0 || !getenv("DEMO_RUNTIME_FLAVOR")) {
        fprintf(stderr, "its environment is not activated (activate.d or env_vars.d not applied)\n");
        return 3;
    }
    char line[65536], id[256], out[512];
    while (fgets(line, sizeof line, stdin)) {
        const char *at = strstr(line, "\"id\"");
        strcpy(id, "null");
        if (at) {
            at = strchr(at + 4, ':');
            if (at) {
                at++;
                while (*at == ' ') at++;
                size_t n = strcspn(at, ",}\r\n");
                if (n > 0 && n < sizeof id) { memcpy(id, at, n); id[n] = 0; }
            }
        }
        int size = strstr(line, "\"negotiateCapabilities\"")
            ? snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"capabilities\":"
                       "{\"providesCondaOutputs\":true,\"providesCondaBuildV1\":false}}}\n", id)
            : snprintf(out, sizeof out, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32601,"
                       "\"message\":\"method not found\"}}\n", id);
        put(out, (DWORD)size);
    }
    return 0;
}
