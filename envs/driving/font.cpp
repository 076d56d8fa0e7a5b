#include "envs/driving/font.h"

namespace rl::driving {
namespace {

// Each glyph is 5 rows, one octal digit per row; bit 2 is the left column.
const char* glyph(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  static const char* const kDigits[10] = {"75557", "26227", "71747", "71717", "55711",
                                          "74717", "74757", "71122", "75757", "75717"};
  static const char* const kLetters[26] = {
      "25755", "65656", "34443", "65556", "74647", "74644", "34553", "55755", "72227",
      "11152", "55655", "44447", "57755", "65555", "25552", "65644", "25563", "65655",
      "34216", "72222", "55557", "55552", "55775", "55255", "55222", "71247"};
  if (c >= '0' && c <= '9') return kDigits[c - '0'];
  if (c >= 'A' && c <= 'Z') return kLetters[c - 'A'];
  switch (c) {
    case '.':
      return "00002";
    case ':':
      return "02020";
    case '%':
      return "51245";
    case '/':
      return "11244";
    case '-':
      return "00700";
    default:
      return "00000";
  }
}

}  // namespace

int draw_text(Image& img, int x, int y, std::string_view text, int scale, Color color) {
  for (char c : text) {
    const char* rows = glyph(c);
    for (int row = 0; row < 5; ++row) {
      const int bits = rows[row] - '0';
      for (int col = 0; col < 3; ++col)
        if (bits & (4 >> col))
          fill_rect(img, x + col * scale, y + row * scale, scale, scale, color);
    }
    x += 4 * scale;
  }
  return x;
}

}  // namespace rl::driving
